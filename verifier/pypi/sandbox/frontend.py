"""The PEP 517 frontend of a `verifier pypi` rebuild, run inside the sandbox by python3.

    python3 frontend.py PLAN.json        builds the wheel once per timestamp policy, in order,
                                         each from a fresh copy of the unpacked sdist, and stops
                                         at the first whose sha256 is the official wheel's
    python3 frontend.py --hook SRC OUT   (internal) one backend call in a fresh process

Lines starting with ``verifier-pypi:`` are read by verifier on the host. Exit statuses:
0 built (at least one policy produced a wheel), 3 the backend asks for packages that are not
installed (``verifier-pypi: needs REQ`` lines, markers not evaluated here: verifier, on the
host, resolves those that apply and runs the build again without this check), 4 no policy
produced a wheel.
"""

import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

NEEDS, NO_WHEEL = 3, 4
LEGACY = "setuptools.build_meta:__legacy__"


def backend_of(src):
    try:
        with open(os.path.join(src, "pyproject.toml"), "rb") as f:
            table = tomllib.load(f).get("build-system", {})
    except FileNotFoundError:
        table = {}
    return table.get("build-backend", LEGACY), table.get("backend-path", [])


def load_backend(src):
    name, paths = backend_of(src)
    for p in reversed(paths):
        sys.path.insert(0, os.path.join(src, p))
    module, _, attr = name.partition(":")
    backend = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        backend = getattr(backend, part)
    return backend


def hook(src, out):
    os.chdir(src)
    backend = load_backend(src)
    if out == "--requires":
        getter = getattr(backend, "get_requires_for_build_wheel", None)
        print(json.dumps(list(getter({}) if getter else [])))
        return 0
    name = backend.build_wheel(out, {})
    print(f"verifier-pypi: built {name}")
    return 0


def installed():
    names = set()
    for d in importlib.metadata.distributions(path=[os.environ.get("VERIFIER_BUILD_ENV", "")]):
        names.add(re.sub(r"[-_.]+", "-", d.metadata["Name"] or "").lower())
    return names


def missing_requirements(src, env):
    done = subprocess.run([sys.executable, __file__, "--hook", src, "--requires"], env=env,
                          capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        print("verifier-pypi: get_requires_for_build_wheel failed")
        return None
    requires = json.loads(done.stdout.strip().splitlines()[-1])
    have = installed()
    name = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
    return [r for r in requires if (m := name.match(r)) and re.sub(r"[-_.]+", "-", m[1]).lower() not in have]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def policy_env(policy):
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    if policy["source_date_epoch"] is not None:
        env["SOURCE_DATE_EPOCH"] = str(policy["source_date_epoch"])
    env["TZ"] = policy["time_zone"]
    return env


def fresh_copy(plan, workdir):
    """A fresh copy of the unpacked sdist (file times kept): no hook sees another's leftovers."""
    copy = os.path.join(workdir, "verifier-src")
    shutil.rmtree(copy, ignore_errors=True)
    src = os.path.join(copy, plan["root"])
    shutil.copytree(os.path.join(workdir, plan["root"]), src, symlinks=True)
    return src


def build_one(plan, policy, workdir):
    src = fresh_copy(plan, workdir)
    out = os.path.join(workdir, "verifier-wheel")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    print(f"verifier-pypi: policy {policy['name']}: SOURCE_DATE_EPOCH={policy['source_date_epoch']} "
          f"TZ={policy['time_zone']}", flush=True)
    done = subprocess.run([sys.executable, __file__, "--hook", src, out], env=policy_env(policy))
    wheels = [n for n in os.listdir(out) if n.endswith(".whl")]
    results = os.path.join(workdir, "verifier-out")
    for left in os.listdir(results):  # only this frontend names a policy's wheel: not the backend it ran
        if left.startswith(f"{policy['name']}--"):
            os.remove(os.path.join(results, left))
    if done.returncode != 0 or len(wheels) != 1:
        print(f"verifier-pypi: policy {policy['name']}: no wheel (exit status {done.returncode})", flush=True)
        return None
    final = os.path.join(results, f"{policy['name']}--{wheels[0]}")
    shutil.move(os.path.join(out, wheels[0]), final)
    return wheels[0], sha256(final)


def main(plan_path):
    with open(plan_path) as f:
        plan = json.load(f)
    workdir = os.getcwd()
    os.makedirs(os.path.join(workdir, "verifier-out"), exist_ok=True)
    missing = missing_requirements(fresh_copy(plan, workdir), policy_env(plan["policies"][0])) \
        if plan["check_requires"] else []
    if missing is None:
        return NO_WHEEL
    if missing:
        for r in missing:
            print(f"verifier-pypi: needs {r}")
        return NEEDS
    built = 0
    for policy in plan["policies"]:
        result = build_one(plan, policy, workdir)
        if result is None:
            continue
        built += 1
        name, digest = result
        if plan["expected"].get(name) == digest:
            print(f"verifier-pypi: policy {policy['name']}: identical to the official {name}", flush=True)
            break
    return 0 if built else NO_WHEEL


if __name__ == "__main__":  # the sandbox's process, not verifier's: its statuses are read by verifier/pypi/run.py
    raise SystemExit(hook(sys.argv[2], sys.argv[3]) if sys.argv[1] == "--hook" else main(sys.argv[1]))
