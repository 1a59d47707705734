"""The SafeLives DASH risk identification checklist (2009) as versioned data, with the default
policy: bands 0-9 standard, 10-13 medium, 14+ high; escalation at 3 incidents in 12 months.

The wording follows SafeLives' published checklist ("(abuser)" stands for the person causing
harm). Areas change the policy in the admin; a new version of the tool is a new questionnaire.
"""

from django.db import migrations

QUESTIONS = [
    "Has the current incident resulted in injury?",
    "Are you very frightened?",
    "What are you afraid of? Is it further injury or violence?",
    "Do you feel isolated from family or friends, i.e. does (abuser) try to stop you from seeing "
    "friends, family, doctor or others?",
    "Are you feeling depressed or having suicidal thoughts?",
    "Have you separated or tried to separate from (abuser) within the past year?",
    "Is there conflict over child contact?",
    "Does (abuser) constantly text, call, contact, follow, stalk or harass you?",
    "Are you pregnant or have you recently had a baby (within the last 18 months)?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does (abuser) try to control everything you do and/or are they excessively jealous?",
    "Has (abuser) ever used weapons or objects to hurt you?",
    "Has (abuser) ever threatened to kill you or someone else and you believed them?",
    "Has (abuser) ever attempted to strangle, choke, suffocate or drown you?",
    "Does (abuser) do or say things of a sexual nature that make you feel bad or that "
    "physically hurt you or someone else?",
    "Is there any other person who has threatened you or who you are afraid of?",
    "Do you know if (abuser) has hurt anyone else?",
    "Has (abuser) ever mistreated an animal or the family pet?",
    "Are there any financial issues? For example, are you dependent on (abuser) for money, have "
    "they recently lost their job, or are there other financial issues?",
    "Has (abuser) had problems in the past year with drugs (prescription or other), alcohol or "
    "mental health leading to problems in leading a normal life?",
    "Has (abuser) ever threatened or attempted suicide?",
    "Has (abuser) ever broken bail, an injunction and/or a formal agreement for when they can "
    "see you and/or the children?",
    "Do you know if (abuser) has ever been in trouble with the police or has a criminal history?",
]

BANDS = [("standard", 0), ("medium", 10), ("high", 14)]


def seed(apps, schema_editor):
    Questionnaire = apps.get_model("referrals", "RiskQuestionnaire")
    Question = apps.get_model("referrals", "RiskQuestion")
    Policy = apps.get_model("referrals", "RiskPolicy")
    Band = apps.get_model("referrals", "RiskBand")
    questionnaire, _ = Questionnaire.objects.get_or_create(
        code="dash-ric",
        version=1,
        defaults={
            "name": "DASH risk identification checklist",
            "source": "SafeLives Dash risk checklist (2009)",
            "is_current": True,
        },
    )
    for number, text in enumerate(QUESTIONS, start=1):
        Question.objects.update_or_create(
            questionnaire=questionnaire, number=number, defaults={"text": text}
        )
    policy, _ = Policy.objects.get_or_create(
        questionnaire=questionnaire,
        authority=None,
        defaults={"escalation_min_incidents": 3, "escalation_window_days": 365},
    )
    for level, min_yes in BANDS:
        Band.objects.update_or_create(policy=policy, level=level, defaults={"min_yes": min_yes})


def unseed(apps, schema_editor):
    Questionnaire = apps.get_model("referrals", "RiskQuestionnaire")
    Policy = apps.get_model("referrals", "RiskPolicy")
    Policy.objects.filter(questionnaire__code="dash-ric", questionnaire__version=1).delete()
    Questionnaire.objects.filter(code="dash-ric", version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_seed_decline_reasons")]

    operations = [migrations.RunPython(seed, unseed)]
