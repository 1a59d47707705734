// Builds SAFER's front-end assets into safer/static/build/ (git-ignored), from which
// collectstatic takes them and gives each a content-hashed name in production.
//
//   build/safer.css                    GOV.UK Frontend compiled with council branding
//   build/govuk-frontend.min.js(.map)  GOV.UK Frontend's JavaScript, loaded by safer/init.js
//
// Everything comes from npm packages: no CDN, nothing downloaded at run time. No GOV.UK images
// or fonts are copied: SAFER must not show the crown or use the GDS Transport font.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const frontend = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "safer", "static", "build");

// Start clean so a file dropped from the build (say, an image) cannot linger and be collected.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = sass.compile(join(root, "safer", "static", "scss", "safer.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  // Frontend 6 is written with @import and global functions; Dart Sass warns about both.
  silenceDeprecations: ["import", "global-builtin"],
});
writeFileSync(join(out, "safer.css"), result.css);

// The map travels with the script: the minified file names it, and the hashed-files storage
// refuses to collect a file whose source map is missing.
for (const name of ["govuk-frontend.min.js", "govuk-frontend.min.js.map"]) {
  copyFileSync(join(frontend, name), join(out, name));
}
console.log(`built ${out}`);
