"""Run with Label Studio's own interpreter (``.ls-venv/bin/python``): create the load
benchmark's project in an initialized Label Studio data folder, straight through its
Django models (its REST API would need one call per user and token).

    LABEL_STUDIO_BASE_DATA_DIR=... .ls-venv/bin/python benchmarks/_labelstudio_setup.py SPEC.json

SPEC.json: {"classes": [...], "texts": [...], "annotators": N, "overlap": K}. Prints a
JSON line: {"project": id, "tokens": {name: token}, "ids": {user id: name},
"admin": token}.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import label_studio

LS_PATH = str(pathlib.Path(label_studio.__file__).parent)
sys.path.insert(0, LS_PATH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")

import django  # noqa: E402

django.setup()

from organizations.models import Organization, OrganizationMember  # noqa: E402
from projects.models import Project  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from tasks.models import Task  # noqa: E402
from users.models import User  # noqa: E402


def main() -> None:
    spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
    org = Organization.objects.first()
    org.jwt.legacy_api_tokens_enabled = True  # the simple "Authorization: Token ..." header
    org.jwt.save()
    admin = User.objects.filter(is_superuser=True).first()
    choices = "".join(f'<Choice value="{c}"/>' for c in spec["classes"])
    config = (
        '<View><Text name="text" value="$text"/>'
        f'<Choices name="label" toName="text" choice="single">{choices}</Choices></View>'
    )
    project = Project.objects.create(
        title="news",
        label_config=config,
        created_by=admin,
        organization=org,
        maximum_annotations=spec["overlap"],
    )
    Task.objects.bulk_create(
        [
            Task(data={"text": t, "ext": f"n{i:05d}"}, project=project)
            for i, t in enumerate(spec["texts"])
        ]
    )
    project.update_tasks_states(
        maximum_annotations_changed=True,
        overlap_cohort_percentage_changed=False,
        tasks_number_changed=True,
    )
    tokens, ids = {}, {}
    for j in range(spec["annotators"]):
        name = f"ann{j:02d}"
        user = User.objects.create_user(email=f"{name}@example.com", password="pw-" + name)
        user.active_organization = org
        user.save()
        OrganizationMember.objects.get_or_create(user=user, organization=org)
        tokens[name] = Token.objects.get_or_create(user=user)[0].key
        ids[user.id] = name
    admin_token = Token.objects.get_or_create(user=admin)[0].key
    print(json.dumps({"project": project.id, "tokens": tokens, "ids": ids, "admin": admin_token}))


if __name__ == "__main__":
    main()
