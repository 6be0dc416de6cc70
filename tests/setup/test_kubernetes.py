#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""deploy/kubernetes/ holds together: every YAML file parses (PyYAML, python3-yaml) into
objects with apiVersion and kind; the DaemonSet finds every ConfigMap key, environment
variable and volume it names; the Localhost profile in the ConfigMap is the file
localhost-profile.json, which is the policy interceptd generates for sysinfo and mknod (the
daemon is asked, INTERCEPTD_BIN); the Security Profiles Operator's SeccompProfile has the same
rules and a listenerPath inside the operator's directory; the sample pod asks for the
profile where the DaemonSet installs it. Prints TAP."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KDIR = os.path.join(TOP, "deploy", "kubernetes")
# kubebuilder pattern of SeccompProfile.spec.listenerPath in the operator's v1 API
SPO_LISTENER = re.compile(r"^/var/run/security-profiles-operator/[a-zA-Z0-9_\-\.]+$")
KEYS = {"security.syscalls.intercept.sysinfo": "true", "security.syscalls.intercept.mknod": "true"}

results = []


def check(desc, fn):
    try:
        fn()
        results.append(("ok", desc, None))
    except Exception as e:  # a failed check is reported, the others still run
        results.append(("not ok", desc, f"{type(e).__name__}: {e}"))


def skip(desc, reason):
    results.append(("ok", f"{desc} # SKIP {reason}", None))


def load_all(name):
    with open(os.path.join(KDIR, name), encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def load_json(name):
    with open(os.path.join(KDIR, name), encoding="utf-8") as f:
        return json.load(f)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def yaml_files():
    return sorted(n for n in os.listdir(KDIR) if n.endswith((".yaml", ".yml")))


def check_parses():
    expect(yaml_files(), "no YAML file in deploy/kubernetes")
    for name in yaml_files():
        docs = load_all(name)
        expect(docs, f"{name}: no document")
        for d in docs:
            expect(isinstance(d, dict) and d.get("apiVersion") and d.get("kind"),
                   f"{name}: a document without apiVersion and kind")


def by_kind(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    expect(len(found) == 1, f"want one {kind}, got {len(found)}")
    return found[0]


def config_maps():
    return {d["metadata"]["name"]: d for d in load_all("daemonset.yaml") if d["kind"] == "ConfigMap"}


def daemonset_parts():
    """The settings ConfigMap (interceptd-config) and the DaemonSet."""
    cms = config_maps()
    expect("interceptd-config" in cms, f"no ConfigMap interceptd-config, only {sorted(cms)}")
    return cms["interceptd-config"], by_kind(load_all("daemonset.yaml"), "DaemonSet")


def all_containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def check_daemonset_refs():
    cm, ds = daemonset_parts()
    spec = ds["spec"]["template"]["spec"]
    volumes = {v["name"] for v in spec["volumes"]}
    for c in all_containers(spec):
        for m in c.get("volumeMounts", []):
            expect(m["name"] in volumes, f"{c['name']}: volume '{m['name']}' not defined")
        env = set()
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                expect(ref["name"] == cm["metadata"]["name"], f"ConfigMap '{ref['name']}'")
                expect(ref["key"] in cm["data"], f"no key '{ref['key']}' in the ConfigMap")
            env.add(e["name"])
        for arg in c.get("args", []) + c.get("command", []):
            for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                expect(var in env, f"{c['name']}: $({var}) is not in its env")
    for v in spec["volumes"]:
        if "configMap" in v:
            expect(v["configMap"]["name"] in config_maps(), f"volume '{v['name']}': no such ConfigMap")
    expect(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
           "the selector does not match the pod labels")


# A rolling update would drop the listeners of every running pod (no fd store in a pod)
def check_daemonset_update():
    _, ds = daemonset_parts()
    spec = ds["spec"]["template"]["spec"]
    expect(ds["spec"]["updateStrategy"]["type"] == "OnDelete", "updateStrategy is not OnDelete")
    expect(spec.get("hostPID") is True, "hostPID is not true")


def check_configmap_profile():
    cm, _ = daemonset_parts()
    expect(json.loads(cm["data"]["localhost-profile.json"]) == load_json("localhost-profile.json"),
           "the ConfigMap's localhost-profile.json differs from deploy/kubernetes/localhost-profile.json")
    expect(load_json("localhost-profile.json")["listenerPath"] == cm["data"]["oci-socket"],
           "the profile's listenerPath is not the ConfigMap's oci-socket")


# --config-dir reads the interceptd-profiles ConfigMap: profile.NAME.json keys, each a PUT body;
# the profile the Localhost profile's listenerMetadata names is among them
def check_profiles_configmap():
    cms = config_maps()
    expect("interceptd-profiles" in cms, "no ConfigMap interceptd-profiles")
    data = cms["interceptd-profiles"]["data"]
    for key, text in data.items():
        expect(re.fullmatch(r"profile\.[a-z0-9][a-z0-9.-]*\.json", key), f"'{key}' is not profile.NAME.json")
        body = json.loads(text)
        expect(set(body) == {"config"}, f"{key}: a PUT body has only 'config'")
    wanted = load_json("localhost-profile.json")["listenerMetadata"].split(",")[0]
    expect(wanted.startswith("profile="), f"listenerMetadata '{wanted}'")
    expect(f"profile.{wanted[len('profile='):]}.json" in data, f"no file for {wanted} in interceptd-profiles")
    _, ds = daemonset_parts()
    args = ds["spec"]["template"]["spec"]["containers"][0]["args"]
    expect("--config-dir" in args, "the daemon is not given --config-dir")


def rules(profile):
    return {k: profile.get(k) for k in ("defaultAction", "architectures", "syscalls", "listenerMetadata")}


def check_spo():
    sp = by_kind(load_all("security-profiles-operator.yaml"), "SeccompProfile")
    expect(sp["apiVersion"].startswith("security-profiles-operator.x-k8s.io/"), sp["apiVersion"])
    path = sp["spec"]["listenerPath"]
    expect(SPO_LISTENER.match(path), f"listenerPath '{path}' is outside the operator's directory")
    expect(rules(sp["spec"]) == rules(load_json("localhost-profile.json")),
           "the SeccompProfile's rules differ from localhost-profile.json")


def check_sample_pod():
    pod = by_kind(load_all("sample-pod.yaml"), "Pod")
    want = pod["spec"]["securityContext"]["seccompProfile"]
    expect(want["type"] == "Localhost", "not a Localhost profile")
    _, ds = daemonset_parts()
    install = " ".join(ds["spec"]["template"]["spec"]["initContainers"][0]["command"])
    expect(f"/host/seccomp/{want['localhostProfile']}" in install,
           f"the DaemonSet does not install {want['localhostProfile']}")
    expect(pod["spec"]["containers"][0]["resources"]["limits"]["memory"], "no memory limit")


def curl(sock, method, path, body=None):
    args = ["curl", "-s", "--max-time", "5", "--unix-socket", sock, "-X", method,
            f"http://localhost{path}"]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def generated_policy(daemon):
    with tempfile.TemporaryDirectory() as d:
        api = os.path.join(d, "api.sock")
        proc = subprocess.Popen([daemon, "--api-socket", api, "--lxc-socket", os.path.join(d, "lxc.sock"),
                                 "--oci-socket", os.path.join(d, "oci.sock"), "--state-dir", os.path.join(d, "state")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(api):
                    break
                time.sleep(0.1)
            curl(api, "POST", "/1.0/containers", {"name": "k8s-default", "config": KEYS})
            return curl(api, "GET", "/1.0/containers/k8s-default/seccomp?format=oci")["metadata"]
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def check_generated(daemon):
    got = generated_policy(daemon)
    want = load_json("localhost-profile.json")
    for k in ("listenerPath", "listenerMetadata"):
        got.pop(k, None)
        want.pop(k, None)
    expect(got == want, "localhost-profile.json is not what interceptd generates for sysinfo and mknod "
           f"(regenerate it): {json.dumps(got)}")


def check_readme():
    with open(os.path.join(KDIR, "README.md"), encoding="utf-8") as f:
        text = f.read()
    for name in os.listdir(KDIR):
        if name != "README.md":
            expect(name in text, f"README.md does not mention {name}")


def main():
    global yaml
    try:
        import yaml  # noqa: F401 (python3-yaml, tests/deps.sh)
    except ImportError:
        print("1..0 # SKIP python3-yaml is not installed (tests/deps.sh)")
        return 0
    check("every YAML file in deploy/kubernetes parses into objects with apiVersion and kind", check_parses)
    check("the DaemonSet finds its ConfigMap keys, variables and volumes", check_daemonset_refs)
    check("the DaemonSet updates OnDelete and runs in the host PID namespace", check_daemonset_update)
    check("the ConfigMap's Localhost profile is localhost-profile.json, listening on oci-socket",
          check_configmap_profile)
    check("interceptd-profiles holds the profile the Localhost profile names, read with --config-dir",
          check_profiles_configmap)
    check("the SeccompProfile has the same rules and a listenerPath the operator accepts", check_spo)
    check("the sample pod asks for the profile where the DaemonSet installs it", check_sample_pod)
    daemon = os.environ.get("INTERCEPTD_BIN", "")
    if daemon and os.access(daemon, os.X_OK):
        check("localhost-profile.json is interceptd's policy for sysinfo and mknod",
              lambda: check_generated(daemon))
    else:
        skip("localhost-profile.json is interceptd's policy for sysinfo and mknod", "INTERCEPTD_BIN not set")
    check("deploy/kubernetes/README.md mentions every file", check_readme)
    for n, (status, desc, detail) in enumerate(results, 1):
        print(f"{status} {n} - {desc}")
        if detail:
            print("# " + detail)
    print(f"1..{len(results)}")
    return 1 if any(s == "not ok" for s, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
