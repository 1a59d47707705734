// Compiles SAFER's Sass (GOV.UK Frontend with council branding) and copies the Frontend
// JavaScript and images into safer/static/build/, from which collectstatic takes them.
// Everything comes from npm packages: no CDN, no download at run time.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const frontend = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "safer", "static", "build");
mkdirSync(out, { recursive: true });

const result = sass.compile(join(root, "safer", "static", "scss", "safer.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin"],
});
writeFileSync(join(out, "safer.css"), result.css);
cpSync(join(frontend, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(frontend, "assets", "images"), join(out, "images"), { recursive: true });
console.log("built safer/static/build/safer.css");
