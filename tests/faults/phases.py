"""Where a run is killed: the phases of deploy.yml and rollback.yml as task names.

A phase is reached when ansible-playbook prints the banner `TASK [<role> : <name>...]`
of one of its tasks (its name, or a name that starts with it) (the runner turns on the banners of skipped tasks, so that a
banner is printed as its task starts, not when its first result comes back);
`delay` seconds later the controller is killed. Task names live in
roles/*/tasks/*.yml: `test_phases.py` fails when one named here is renamed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """A point of a run: the banner of TASK (role, name), then DELAY seconds."""

    name: str
    role: str
    task: str
    delay: float = 0.0
    what: str = ""  # what the run has done when it is killed, for the results table
    # Kill once the front door answers the release being deployed (the traffic
    # moved), DELAY seconds at most after the banner: the module is still running.
    after_switch: bool = False

    @property
    def banner(self) -> str:
        """The banner's start: a task whose name grows a suffix is still found."""
        return f"TASK [{self.role} : {self.task}"


# deploy.yml, in the order a run reaches them.
DEPLOY = (
    Phase("before-lock", "deploy", "The scan command names the image it scans", 0.0,
          "preflight done, the lock not taken"),
    Phase("staging", "compose_images", "Files the compose file references are in the release", 0.0,
          "lock taken, env files written, compose file being shipped"),
    Phase("pull", "deploy", "Images of the release are on the host (the old release keeps serving)", 1.0,
          "images being pulled"),
    Phase("migrate", "deploy", "Compose runs the migration command once", 1.0,
          "migration running from the new image"),
    Phase("rollout-early", "release", "The release's containers serve, rolled out by the chosen strategy", 2.0,
          "new web containers starting beside the old ones"),
    Phase("rollout-switched", "release", "The release's containers serve, rolled out by the chosen strategy", 90.0,
          "traffic moved to the new release, the rollout still replacing workers and beat", after_switch=True),
    Phase("after-rollout", "health", "The release answers healthy and its containers run", 0.0,
          "new release serving, health gate running, current not yet moved"),
    Phase("record", "deploy", "Current points at the release, recorded in its manifest and the history", 0.0,
          "the record being written"),
    Phase("prune", "deploy", "The history is read (which releases served, most recent last)", 0.0,
          "recorded, pruning old releases"),
)  # fmt: skip

# rollback.yml, in the order a run reaches them.
ROLLBACK = (
    Phase("before-lock", "rollback", "Every post-rollback hook file is on the controller, named by an absolute path", 0.0,
          "the lock not taken"),
    Phase("target", "rollback", "The release to go back to is chosen", 0.0,
          "lock taken, target being chosen"),
    Phase("rollout", "release", "The release's containers serve, rolled out by the chosen strategy", 0.5,
          "traffic switching back to the warm release"),
    Phase("after-rollout", "health", "The release answers healthy and its containers run", 0.0,
          "kept release serving, health gate running, current not yet moved"),
    Phase("record", "release", "The rollback is in the history", 0.0,
          "current moved, the history not yet written"),
    Phase("unlock", "rollback", "The deploy lock is released", 0.0,
          "recorded, the lock being released"),
)  # fmt: skip

PLAYBOOKS = {"deploy.yml": DEPLOY, "rollback.yml": ROLLBACK}

# Not a kill point: where the disk is filled, once the free-disk check has measured.
ROOM_FOR_PULL = Phase(
    "pull-check", "deploy", "There is room for the pull", 0.0, "free disk measured"
)


def phase(playbook: str, name: str) -> Phase:
    for candidate in PLAYBOOKS[playbook]:
        if candidate.name == name:
            return candidate
    raise KeyError(f"{playbook} has no phase {name}")
