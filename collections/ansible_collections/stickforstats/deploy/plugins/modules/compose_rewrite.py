"""Documentation of the compose_rewrite action (the action plugin does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compose_rewrite
version_added: 0.1.0
author: stickforstats-deploy engineers
short_description: Install a Docker Compose file rewritten to use pushed images
description:
  - Reads a Docker Compose file on the controller, replaces the C(build:) section of every
    built service by an C(image:) pointing at the pushed image
    (C(<repository>:<version>), or C(<repository>:<version>@<digest>) when a digest is given),
    and installs the result on the managed host, like M(ansible.builtin.template) does.
  - Services without C(build:) keep their C(image:) untouched.
  - Everything else is kept as it is, in the same order, C(${VAR}) interpolations are not
    expanded, and C(env_file), relative bind mounts, C(profiles), C(deploy), C(x-)
    extensions, anchors and merge keys are preserved.
  - Comments are preserved (the file is read and written with ruamel.yaml's round trip, on the
    controller), except those inside a removed C(build:) section. Indentation is normalised to
    two spaces, and scalars are read as YAML 1.2, as Compose reads them.
  - "V(pull_policy: build) is dropped from rewritten services, as it needs a C(build:) section."
  - The file is written by the M(ansible.builtin.copy) action, so check mode, diff mode and
    idempotence behave as they do for M(ansible.builtin.copy).
  - All problems found (a built service without an image mapping, a mapping for a service
    that is not in the file or has no C(build:), an invalid version, repository or digest,
    invalid YAML) are reported together in the failure message.
notes:
  - The rewrite runs on the controller, only the result is transferred to the managed host.
  - Needs the Python package C(ruamel.yaml) on the controller (C(requirements/runtime.txt)).
  - This is an action plugin; there is no module to run on the managed host.
options:
  src:
    description:
      - Path of the compose file on the controller.
      - A relative path is looked up like M(ansible.builtin.copy) does, in the C(files/)
        directory of the role, then next to the playbook.
    type: path
    required: true
  dest:
    description: Path of the rewritten file on the managed host.
    type: path
    required: true
  images:
    description:
      - Service name to image repository, without tag or digest,
        for instance V(registry:5000/stickforstats/backend).
      - Every service with C(build:) needs an entry, and every entry must name a service with
        C(build:). Several services may share one repository.
    type: dict
    required: true
  version:
    description:
      - The image tag to deploy, usually the git commit the images were built from.
      - Must be a valid Docker tag.
    type: str
    required: true
  digests:
    description:
      - Service name to image digest (V(sha256:) followed by 64 lower case hex digits).
      - Services listed here get C(<repository>:<version>@<digest>). Each must also be in O(images).
    type: dict
    default: {}
  mode:
    description: Permissions of O(dest), as for M(ansible.builtin.copy).
    type: raw
    default: '0644'
  owner:
    description: Owner of O(dest), as for M(ansible.builtin.copy).
    type: str
  group:
    description: Group of O(dest), as for M(ansible.builtin.copy).
    type: str
  backup:
    description: Keep a timestamped backup of O(dest) when it changes, as for M(ansible.builtin.copy).
    type: bool
    default: false
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.action
  - stickforstats.deploy.attributes.platform
attributes:
  action:
    support: full
    details: The whole rewrite runs on the controller; only the result goes to the managed host.
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  check_mode:
    support: full
    details: The file is written by M(ansible.builtin.copy), which predicts the change.
  diff_mode:
    support: full
    details: The diff of M(ansible.builtin.copy), between the installed file and the rewritten one.
  idempotent:
    support: full
requirements:
  - ruamel.yaml (on the controller)
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
  - plugin: stickforstats.deploy.image_with_tag
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Install the compose file with the images built for this commit
  stickforstats.deploy.compose_rewrite:
    src: docker-compose.prod.yml
    dest: /opt/stickforstats/docker-compose.yml
    images:
      backend: registry:5000/stickforstats/backend
      worker: registry:5000/stickforstats/backend
      beat: registry:5000/stickforstats/backend
      asgi: registry:5000/stickforstats/backend
      frontend: registry:5000/stickforstats/frontend
    version: "{{ stickforstats_version }}"
    owner: deploy
    group: deploy
    mode: "0640"
  register: compose_file

- name: Pin the images to the digests returned by the push
  stickforstats.deploy.compose_rewrite:
    src: docker-compose.prod.yml
    dest: /opt/stickforstats/docker-compose.yml
    images:
      backend: registry:5000/stickforstats/backend
      frontend: registry:5000/stickforstats/frontend
    version: abc1234
    digests:
      backend: "{{ backend_push.digest }}"  # sha256:...
      frontend: "{{ frontend_push.digest }}"
"""

RETURN = r"""
services:
  description: The rewritten services, in the order of the compose file, with their new image.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The service name.
      type: str
      sample: backend
    image:
      description: The image the service now uses.
      type: str
      sample: registry:5000/stickforstats/backend:abc1234
  sample:
    - name: backend
      image: registry:5000/stickforstats/backend:abc1234
    - name: frontend
      image: registry:5000/stickforstats/frontend:abc1234
dest:
  description: Destination file path, as returned by M(ansible.builtin.copy).
  returned: success
  type: str
  sample: /opt/stickforstats/docker-compose.yml
checksum:
  description: SHA1 checksum of the installed file, as returned by M(ansible.builtin.copy).
  returned: success
  type: str
  sample: 6e642bb8dd5c2e027bf21dd923337cbb4214f827
errors:
  description: Every problem found in the compose file or the options, when the rewrite failed.
  returned: failure
  type: list
  elements: str
  sample:
    - "service 'asgi' has build: but no image mapping"
    - service 'web' has an image mapping but is not in the compose file
backup_file:
  description: Name of the backup file, when O(backup=true) and the file changed.
  returned: changed and if backup=yes
  type: str
  sample: /opt/stickforstats/docker-compose.yml.2434.2024-01-01@12:00:00~
"""
