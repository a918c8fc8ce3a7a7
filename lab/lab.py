#!/usr/bin/env python3
"""pullscan fault lab driver (Python 3.11 stdlib only). Run through lab/run, as root.

Starts real registries and fault servers on 127.0.0.1, runs every client over
every scenario that applies, and writes corpus/lab/<client>/<scenario>.log,
.labels.jsonl and corpus/lab/scenarios.json.
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenarios import (CLOSED, FAULT, HOST, PROXY, REG, SCENARIOS, TRUSTED, ref)  # noqa: E402
import label as labeller  # noqa: E402

LAB = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(LAB)
OUT = os.path.join(REPO, "corpus", "lab")
ALL_CLIENTS = ["skopeo", "skopeo-inspect", "podman", "buildah", "ctr", "docker"]
USER, PASS = "labuser", "labpass"

procs = []          # (name, Popen) started by the lab, stopped by pid at exit
mounts = []
cleanups = []


def log(*a):
    print("[lab %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout}")
    return r


def start(name, cmd, logfile, env=None):
    f = open(logfile, "ab")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    procs.append((name, p))
    return p


def stop(name, p, sig=signal.SIGTERM, wait=10):
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
            p.wait(wait)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)
        except ProcessLookupError:
            pass


def wait_port(port, secs=20, host="::1"):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection((host, port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def wait_sock(path, secs=30):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.close()
                return True
            except OSError:
                pass
        time.sleep(0.2)
    return False


# ---------------------------------------------------------------- certs

def make_certs(d):
    os.makedirs(d, exist_ok=True)
    o = lambda *a: sh(["openssl", *a], cwd=d)
    o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
      "-subj", "/O=pullscan lab/CN=pullscan lab CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, cn, sans, signer=True, start=None, end=None):
        o("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        if start:
            # openssl ca sets explicit validity dates (an expired certificate)
            cadir = os.path.join(d, "ca-db")
            os.makedirs(cadir, exist_ok=True)
            open(os.path.join(cadir, "index.txt"), "w").close()
            with open(os.path.join(cadir, "serial"), "w") as f:
                f.write("1000\n")
            with open(os.path.join(d, "ca.cnf"), "w") as f:
                f.write(f"""[ca]\ndefault_ca=lab\n[lab]\ndir={cadir}\ndatabase=$dir/index.txt\nserial=$dir/serial\n
new_certs_dir=$dir\ncertificate={d}/ca.crt\nprivate_key={d}/ca.key\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\n
[p]\ncommonName=supplied\n[ext]\nsubjectAltName={sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n""")
            o("ca", "-batch", "-config", "ca.cnf", "-extensions", "ext", "-startdate", start, "-enddate", end,
              "-in", f"{name}.csr", "-out", f"{name}.crt", "-notext")
        elif signer:
            o("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
              "-days", "30", "-extfile", f"{name}.ext", "-out", f"{name}.crt")
        else:
            o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt",
              "-days", "30", "-subj", f"/CN={cn}", "-addext", f"subjectAltName={sans}")

    leaf("server", HOST, f"DNS:{HOST},IP:::1,IP:127.0.0.1")
    leaf("wronghost", "wrong.example", "DNS:wrong.example")
    leaf("selfsigned", HOST, f"DNS:{HOST}", signer=False)
    leaf("expired", HOST, f"DNS:{HOST}", start="20230101000000Z", end="20230201000000Z")


# ---------------------------------------------------------------- images (OCI layouts by hand)

def blob(layout, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    p = os.path.join(layout, "blobs", "sha256", d[7:])
    with open(p, "wb") as f:
        f.write(data)
    return {"digest": d, "size": len(data)}


def make_layout(layout, files, arch="amd64", index_only_arch=None):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            t.addfile(ti, io.BytesIO(data))
    raw = tbuf.getvalue()
    gz = gzip.compress(raw, mtime=0)
    layer = blob(layout, gz)
    cfg = {"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
           "config": {"Cmd": ["/hello"], "Env": ["PATH=/"]},
           "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
           "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "pullscan lab"}]}
    config = blob(layout, json.dumps(cfg).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}
    m = blob(layout, json.dumps(man).encode())
    top = {"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
           "annotations": {"org.opencontainers.image.ref.name": "1.0"}}
    if index_only_arch:
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
                              "platform": {"architecture": arch, "os": "linux", "variant": "v8"}}]}
        i = blob(layout, json.dumps(idx).encode())
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", **i,
               "annotations": {"org.opencontainers.image.ref.name": "1.0"}}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)


# ---------------------------------------------------------------- the lab

class Lab:
    def __init__(self, args):
        self.args = args
        self.T = tempfile.mkdtemp(prefix="pullscan-lab.")
        os.chmod(self.T, 0o755)
        self.p = lambda *a: os.path.join(self.T, *a)
        self.results = []
        self.have = {}
        self.csock = self.p("containerd", "containerd.sock")
        self.dsock = self.p("docker", "docker.sock")
        self.clog = self.p("logs", "containerd.log")
        self.dlog = self.p("logs", "dockerd.log")
        os.makedirs(self.p("logs"))
        self.hosts_backup = None
        self.certsd_created = []
        self.certsd_existed = os.path.exists("/etc/docker/certs.d")
        self.etcdocker_existed = os.path.exists("/etc/docker")
        self.keyjson_existed = os.path.exists("/etc/docker/key.json")

    # ---- setup
    def setup(self):
        T = self.T
        log("temp root", T)
        make_certs(self.p("certs"))
        c = self.p("certs")
        # hosts: lab.test -> 127.0.0.1 (restored at exit)
        with open("/etc/hosts") as f:
            self.hosts_backup = f.read()
        with open(self.p("hosts.bak"), "w") as f:
            f.write(self.hosts_backup)
        with open("/etc/hosts", "a") as f:
            # ::1, not 127.0.0.1: dockerd always treats 127.0.0.0/8 as an insecure registry
            # (skips TLS checks and falls back to plain HTTP), which would hide the faults.
            f.write(f"\n::1 {HOST} # pullscan-lab\n")
        # certs.d trees: one dir per trusted host:port, with the lab CA
        self.certsd = self.p("certs.d")
        self.hostsd = self.p("hosts.d")
        for port in TRUSTED:
            d = os.path.join(self.certsd, f"{HOST}:{port}")
            os.makedirs(d)
            shutil.copy(os.path.join(c, "ca.crt"), os.path.join(d, "ca.crt"))
            h = os.path.join(self.hostsd, f"{HOST}:{port}")
            os.makedirs(h)
            with open(os.path.join(h, "hosts.toml"), "w") as f:
                f.write(f'server = "https://{HOST}:{port}"\nca = "{c}/ca.crt"\n\n[host."https://{HOST}:{port}"]\n'
                        f'  capabilities = ["pull", "resolve", "push"]\n  ca = "{c}/ca.crt"\n')
        for port in (REG["plain"],):
            h = os.path.join(self.hostsd, f"{HOST}:{port}")
            os.makedirs(h)
            with open(os.path.join(h, "hosts.toml"), "w") as f:
                f.write(f'server = "http://{HOST}:{port}"\n\n[host."http://{HOST}:{port}"]\n'
                        f'  capabilities = ["pull", "resolve", "push"]\n')
        os.makedirs(self.p("empty-certs"))
        # docker reads /etc/docker/certs.d/<host:port>/ca.crt (no flag for it in 20.10)
        for port in TRUSTED:
            d = f"/etc/docker/certs.d/{HOST}:{port}"
            if not os.path.exists(d):
                os.makedirs(d)
                self.certsd_created.append(d)
                shutil.copy(os.path.join(c, "ca.crt"), os.path.join(d, "ca.crt"))
        # auth
        sh(["htpasswd", "-Bbc", self.p("htpasswd"), USER, PASS])
        with open(self.p("auth.json"), "w") as f:
            json.dump({"auths": {}}, f)
        # docker CLI configs: none, good, bad creds
        for kind, pw in (("none", None), ("good", PASS), ("bad", "wrongpass")):
            d = self.p("docker-config", kind)
            os.makedirs(d)
            auths = {}
            if pw:
                auths = {f"{HOST}:{REG['auth']}": {"auth": base64.b64encode(f"{USER}:{pw}".encode()).decode()}}
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"auths": auths}, f)
        # policies, registries.conf
        with open(self.p("policy.json"), "w") as f:
            json.dump({"default": [{"type": "insecureAcceptAnything"}]}, f)
        with open(self.p("policy-reject.json"), "w") as f:
            json.dump({"default": [{"type": "reject"}]}, f)
        with open(self.p("registries.conf"), "w") as f:
            f.write('unqualified-search-registries = []\nshort-name-mode = "disabled"\n\n'
                    f'[[registry]]\nlocation = "{HOST}:{REG["plain"]}"\ninsecure = true\n')
        with open(self.p("storage.conf"), "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\nrunroot = "{self.p("cs-run")}"\ngraphroot = "{self.p("cs-root")}"\n')
        with open(self.p("containers.conf"), "w") as f:
            f.write('[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n')
        # images
        make_layout(self.p("oci", "hello"), {"hello": b"#!/bin/sh\necho hello from the pullscan lab\n"})
        make_layout(self.p("oci", "armonly"), {"hello": b"arm64 only\n"}, arch="arm64", index_only_arch=True)
        make_layout(self.p("oci", "big"), {"big.bin": os.urandom(6 * 1024 * 1024)})
        self.start_registries()
        self.push_images()
        self.start_faults()
        self.start_containerd()
        self.start_dockerd()

    def start_registries(self):
        c = self.p("certs")
        store = self.p("registry-storage")
        os.makedirs(store)
        tlsmap = {"tls": "server", "auth": "server", "selfsigned": "selfsigned", "expired": "expired",
                  "wronghost": "wronghost", "unknownca": "server"}
        for name, port in REG.items():
            cfg = ["version: 0.1", "log:", "  level: info", "  accesslog:", "    disabled: false",
                   "storage:", "  filesystem:", f"    rootdirectory: {store}", "  delete:", "    enabled: true",
                   "http:", f"  addr: '[::1]:{port}'", "  secret: pullscan-lab", "  headers:",
                   "    X-Content-Type-Options: [nosniff]"]
            if name in tlsmap:
                cert = tlsmap[name]
                cfg += ["  tls:", f"    certificate: {c}/{cert}.crt", f"    key: {c}/{cert}.key"]
            if name == "auth":
                cfg += ["auth:", "  htpasswd:", "    realm: pullscan-lab", f"    path: {self.p('htpasswd')}"]
            path = self.p(f"registry-{name}.yml")
            with open(path, "w") as f:
                f.write("\n".join(cfg) + "\n")
            start(f"registry-{name}", ["docker-registry", "serve", path], self.p("logs", f"registry-{name}.log"))
        for name, port in REG.items():
            if not wait_port(port):
                raise RuntimeError(f"registry {name} did not listen on {port}")
        log("registries up:", REG)

    def push_images(self):
        for img in ("hello", "armonly", "big"):
            sh(["timeout", "-k", "5", "60", "skopeo", "--policy", self.p("policy.json"), "copy", "--all",
                "--dest-tls-verify=false", f"oci:{self.p('oci', img)}:1.0",
                f"docker://{HOST}:{REG['plain']}/lab/{img}:1.0"])
        log("images pushed")

    def start_faults(self):
        c = self.p("certs")
        srv = []
        F = FAULT
        st = lambda port, status, body, code="", message="", ping_ok=False, headers=None: dict(
            port=port, mode="status", status=status, body=body, code=code, message=message, ping_ok=ping_ok,
            headers=headers or {}, tls=True)
        srv.append(dict(port=F["firewall"], mode="firewall-html", tls=True))
        srv.append(st(F["denied"], 403, "json", "DENIED", "requested access to the resource is denied", True))
        srv.append(st(F["azure"], 403, "json", "DENIED",
                      "client with IP '1.2.3.4' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."))
        srv.append(st(F["ratelimit"], 429, "json", "TOOMANYREQUESTS",
                      "You have reached your pull rate limit. You may increase the limit by authenticating and "
                      "upgrading: https://www.docker.com/increase-rate-limit", True,
                      {"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600"}))
        for s in (500, 502, 503):
            srv.append(st(F[f"s{s}json"], s, "json", "UNAVAILABLE" if s != 500 else "UNKNOWN",
                          {500: "unknown error", 502: "bad gateway: upstream storage backend unreachable",
                           503: "service unavailable: the registry is in maintenance mode"}[s], True))
            srv.append(st(F[f"s{s}html"], s, "html"))
        lay = lambda img: dict(layout=self.p("oci", img), tag="1.0")
        srv.append(dict(port=F["p413"], mode="payload-too-large", tls=True))
        srv.append(dict(port=F["blackhole"], mode="blackhole", tls=False))
        srv.append(dict(port=F["hangtls"], mode="hang-after-tls", tls=True))
        srv.append(dict(port=F["reset"], mode="reset-mid-blob", tls=True, **lay("big")))
        srv.append(dict(port=F["baddigest"], mode="bad-digest", tls=True, **lay("big")))
        srv.append(dict(port=F["trickle"], mode="trickle", tls=True, **lay("big")))
        srv.append(dict(port=PROXY["p407"], mode="proxy-407"))
        srv.append(dict(port=PROXY["p403"], mode="proxy-403"))
        cfg = self.p("faults.json")
        with open(cfg, "w") as f:
            json.dump({"cert": f"{c}/server.crt", "key": f"{c}/server.key", "servers": srv}, f, indent=1)
        start("faults", [sys.executable, os.path.join(LAB, "faults.py"), cfg], self.p("logs", "faults.log"))
        for s in srv:
            if not wait_port(s["port"], host="127.0.0.1" if s["mode"].startswith("proxy-") else "::1"):
                raise RuntimeError(f"fault server {s} not listening")
        log("fault servers up")

    def start_containerd(self):
        if not shutil.which("containerd"):
            log("containerd missing: ctr scenarios skipped")
            return
        d = self.p("containerd")
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "config.toml")
        with open(cfg, "w") as f:
            f.write(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                    f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{self.csock}"\n[ttrpc]\n  address = "{self.csock}.ttrpc"\n'
                    f'[debug]\n  level = "info"\n')
        self.containerd_cmd = ["containerd", "--config", cfg, "--log-level", "info"]
        self.containerd = start("containerd", self.containerd_cmd, self.clog)
        if wait_sock(self.csock):
            self.have["ctr"] = True
            log("containerd up")
        else:
            log("containerd did not start: ctr skipped")

    def dockerd_cmd(self, data_root=None):
        d = self.p("docker")
        with open(os.path.join(d, "daemon.json"), "w") as f:
            json.dump({}, f)
        cmd = ["dockerd", "--data-root", data_root or f"{d}/data", "--exec-root", f"{d}/exec", "-H", f"unix://{self.dsock}",
               "--pidfile", f"{d}/docker.pid", "--iptables=false", "--ip-masq=false", "--bridge=none",
               "--storage-driver=vfs", "--log-level=info", f"--insecure-registry={HOST}:{REG['plain']}",
               "--config-file", f"{d}/daemon.json"]
        # dockerd starts its own containerd (under --exec-root/--data-root): the lab containerd's
        # log then holds only what ctr caused, and the two content stores do not race.
        return cmd

    def start_dockerd(self, env=None, data_root=None):
        if not shutil.which("dockerd") or not shutil.which("docker"):
            log("dockerd/docker missing: docker scenarios skipped")
            return
        os.makedirs(self.p("docker"), exist_ok=True)
        e = dict(os.environ)
        e.update(env or {})
        self.dockerd = start("dockerd", self.dockerd_cmd(data_root), self.dlog, env=e)
        if wait_sock(self.dsock, 40) and sh(["timeout", "20", "docker", "-H", f"unix://{self.dsock}", "version"],
                                            check=False).returncode == 0:
            self.have["docker"] = True
            log("dockerd up", "(env %s)" % env if env else "")
        else:
            self.have["docker"] = False
            log("dockerd did not start: docker skipped; tail:", open(self.dlog).read()[-2000:])

    def restart_dockerd(self, env=None, data_root=None):
        if getattr(self, "dockerd", None) is None:
            return
        stop("dockerd", self.dockerd, wait=20)
        for _ in range(50):
            if not os.path.exists(self.dsock):
                break
            time.sleep(0.1)
        self.start_dockerd(env, data_root)

    def restart_containerd(self, root=None):
        if getattr(self, "containerd", None) is None:
            return
        stop("containerd", self.containerd, wait=20)
        for _ in range(50):
            if not os.path.exists(self.csock):
                break
            time.sleep(0.1)
        cmd = list(self.containerd_cmd)
        if root:
            cmd += ["--root", root]
        self.containerd = start("containerd", cmd, self.clog)
        self.have["ctr"] = wait_sock(self.csock)

    # ---- client commands
    def client_cmd(self, client, sc, tmpdir):
        """argv and env for one client in one scenario, or None if it does not apply."""
        P = self.p
        env = dict(os.environ)
        env.update({"CONTAINERS_REGISTRIES_CONF": P("registries.conf"), "CONTAINERS_STORAGE_CONF": P("storage.conf"),
                    "CONTAINERS_CONF": P("containers.conf"), "REGISTRY_AUTH_FILE": P("auth.json"),
                    "DOCKER_CONFIG": P("docker-config", "none"), "TMPDIR": tmpdir})
        for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
            env.pop(k, None)
        env.update(sc.env)
        if sc.clients and client not in sc.clients:
            return None
        r = sc.ref
        hostport = r.split("/")[0]
        tls = "--tls-verify=false" if sc.insecure else "--tls-verify=true"
        certdir = os.path.join(self.certsd, hostport) if os.path.isdir(os.path.join(self.certsd, hostport)) else P("empty-certs")
        creds = {None: [], "good": ["--creds", f"{USER}:{PASS}"], "bad": ["--creds", f"{USER}:wrongpass"]}[sc.creds]
        policy = P("policy-reject.json") if sc.kw.get("policy") == "reject" else P("policy.json")
        store = tmpdir
        if sc.kw.get("tmpfs"):
            store = os.path.join(tmpdir, "tmpfs")
            os.makedirs(store)
            sh(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", store])
            mounts.append(store)
            env["TMPDIR"] = store
        if client == "skopeo":
            if sc.op == "run-never" or sc.kw.get("daemon_down"):
                return None
            base = ["skopeo", "--policy", policy, "--registries-conf", P("registries.conf")]
            if sc.op == "push":
                sc_creds = ["--dest-creds", creds[1]] if creds else []
                return base + ["copy", "--dest-cert-dir", certdir, "--dest-tls-verify=" + str(not sc.insecure).lower(),
                               "--dest-authfile", P("auth.json"), *sc_creds,
                               f"oci:{P('oci', 'hello')}:1.0", f"docker://{r}"], env
            sc_creds = ["--src-creds", creds[1]] if creds else []
            return base + ["copy", "--src-cert-dir", certdir, "--src-tls-verify=" + str(not sc.insecure).lower(),
                           "--src-authfile", P("auth.json"), *sc_creds, f"docker://{r}",
                           f"oci:{store}/skopeo-oci:latest"], env
        if client in ("podman", "buildah"):
            root = os.path.join(store, client) if sc.kw.get("tmpfs") else P(client, "root")
            base = [client, "--root", root, "--runroot", P(client, "run"), "--storage-driver", "vfs"]
            if client == "podman":
                base += ["--cgroup-manager", "cgroupfs", "--events-backend", "file"]
                if sc.kw.get("daemon_down"):
                    return ["podman", "--remote", "--url", "unix:///nonexistent/podman/podman.sock", "pull", r], env
            elif sc.kw.get("daemon_down"):
                return None
            common = ["--cert-dir", certdir, tls, "--authfile", P("auth.json"), *creds]
            if sc.op == "push":
                return base + ["push", *common, "--signature-policy", policy, f"{HOST}:{REG['tls']}/lab/hello:1.0",
                               f"docker://{r}"], env
            if sc.op == "run-never":
                if client == "podman":
                    return base + ["run", "--pull=never", "--rm", r, "/hello"], env
                return base + ["from", "--pull-never", r], env
            if client == "buildah":
                common.append("--policy=always")
            return base + ["pull", *common, "--signature-policy", policy, r], env
        if client == "skopeo-inspect":
            # inspect reads the manifest and config only: no blob faults, no storage, no cancel
            if (sc.op != "pull" or sc.kw.get("tmpfs") or sc.kw.get("daemon_down") or sc.kw.get("cancel_after")
                    or sc.kw.get("blob_fault")):
                return None
            sc_creds = ["--creds", creds[1]] if creds else []
            return ["skopeo", "--policy", policy, "--registries-conf", P("registries.conf"), "inspect",
                    "--cert-dir", certdir, tls, "--authfile", P("auth.json"), *sc_creds, f"docker://{r}"], env
        if client == "ctr":
            if not self.have.get("ctr") or sc.op == "run-never":
                return None
            addr = "/nonexistent/containerd/containerd.sock" if sc.kw.get("daemon_down") else self.csock
            base = ["ctr", "--address", addr, "--namespace", "lab", "images"]
            flags = ["--hosts-dir", self.hostsd]
            if sc.insecure:
                flags.append("--plain-http")
            if sc.creds:
                flags += ["--user", creds[1]]
            if sc.op == "push":
                return base + ["push", *flags, r, f"{HOST}:{REG['tls']}/lab/hello:1.0"], env
            return base + ["pull", *flags, "--snapshotter", "native", r], env
        if client == "docker":
            if not self.have.get("docker") or sc.kw.get("policy"):
                return None
            cfg = P("docker-config", {None: "none", "good": "good", "bad": "bad"}[sc.creds])
            sock = "unix:///nonexistent/docker/docker.sock" if sc.kw.get("daemon_down") else f"unix://{self.dsock}"
            base = ["docker", "--config", cfg, "-H", sock]
            if sc.op == "push":
                return base + ["push", r], env
            if sc.op == "run-never":
                return base + ["run", "--pull=never", "--rm", r], env
            return base + ["pull", r], env
        return None

    def prepare_push(self, sc):
        """Local images to push: tag the baseline image under the scenario's name."""
        if sc.op != "push":
            return
        src = f"{HOST}:{REG['tls']}/lab/hello:1.0"
        if self.have.get("docker"):
            sh(["docker", "-H", f"unix://{self.dsock}", "tag", src, sc.ref], check=False)

    # ---- run
    def run_scenario(self, sc):
        clients = [c for c in self.clients if c in ALL_CLIENTS]
        self.prepare_push(sc)
        if sc.env and "docker" in clients and self.have.get("docker") is not None:
            # dockerd does the fetching: it needs the proxy in its own environment
            self.restart_dockerd(sc.env)
        if sc.kw.get("tmpfs"):
            # node storage full: the daemons' roots on a 3 MB tmpfs each, for this scenario only
            for name in ("containerd", "dockerd"):
                m = self.p(f"full-{name}")
                os.makedirs(m, exist_ok=True)
                sh(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", m])
                mounts.append(m)
            if "ctr" in clients:
                self.restart_containerd(self.p("full-containerd", "root"))
            if "docker" in clients and self.have.get("docker") is not None:
                self.restart_dockerd(None, self.p("full-dockerd", "data"))
        offs = {n: os.path.getsize(f) if os.path.exists(f) else 0 for n, f in (("containerd", self.clog), ("dockerd", self.dlog))}
        runs = []
        for client in clients:
            tmpdir = tempfile.mkdtemp(dir=self.T, prefix=f"{sc.name}-{client}-")
            got = self.client_cmd(client, sc, tmpdir)
            if got is None:
                continue
            argv, env = got
            full = ["timeout", "-k", "5", str(sc.timeout), *argv]
            outp = os.path.join(tmpdir, "out.log")
            f = open(outp, "wb")
            t0 = time.time()
            p = subprocess.Popen(full, stdout=f, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
            runs.append(dict(client=client, argv=full, p=p, f=f, out=outp, t0=t0, env=sc.env))
        if sc.kw.get("cancel_after"):
            time.sleep(sc.kw["cancel_after"])
            for r in runs:
                if r["p"].poll() is None:
                    # timeout(1) passes SIGINT on to the client
                    r["p"].send_signal(signal.SIGINT)
                    r["cancelled"] = True
        end = time.time() + sc.timeout + 15
        while any("secs" not in r for r in runs):
            for r in runs:
                if "secs" in r:
                    continue
                if r["p"].poll() is not None or time.time() > end:
                    if r["p"].poll() is None:  # timeout(1) itself stuck: should not happen
                        r["p"].kill()
                        r["p"].wait()
                    r["secs"] = round(time.time() - r["t0"], 1)
                    r["f"].close()
            time.sleep(0.05)
        time.sleep(1.0)
        # write captures
        for r in runs:
            self.write_capture(r["client"], sc, open(r["out"], "rb").read(), r)
        for daemon, path, client in (("containerd", self.clog, "ctr"), ("dockerd", self.dlog, "docker")):
            rr = [r for r in runs if r["client"] == client]
            if not rr or not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                f.seek(offs[daemon])
                data = f.read()
            if sc.kw.get("daemon_down"):
                continue
            if data.strip():
                self.write_capture(daemon, sc, data, rr[0], daemon=True)
        if (sc.env or sc.kw.get("tmpfs")) and "docker" in clients and self.have.get("docker") is not None:
            self.restart_dockerd(None)
        if sc.kw.get("tmpfs") and "ctr" in clients:
            self.restart_containerd(None)
        for m in list(mounts):
            sh(["umount", "-l", m], check=False)
            mounts.remove(m)
        log(f"{sc.name}: " + ", ".join(f"{r['client']}={r['p'].returncode}/{r['secs']}s" for r in runs))

    def write_capture(self, client, sc, data, r, daemon=False):
        d = os.path.join(OUT, client)
        os.makedirs(d, exist_ok=True)
        text = data.decode("utf-8", "replace")
        with open(os.path.join(d, f"{sc.name}.log"), "w") as f:
            f.write(text if text.endswith("\n") or not text else text + "\n")
        env = " ".join(f"{k}={v}" for k, v in r["env"].items() if k.isupper())
        cmd = " ".join(shq(a) for a in r["argv"])
        if env:
            cmd = f"env {env} {cmd}"
        if daemon:
            cmd = f"[{client} log lines written during] {cmd}"
        rc = r["p"].returncode
        notes = []
        if rc == 124 or rc == 137 or rc == -9:
            notes.append(f"killed by timeout after {sc.timeout}s")
        if r.get("cancelled"):
            notes.append(f"SIGINT sent after {sc.kw['cancel_after']}s")
        self.results.append({"client": client, "scenario": sc.name, "cause": sc.cause, "command": cmd,
                             "exit_code": rc, "seconds": r["secs"], **({"note": "; ".join(notes)} if notes else {})})

    def run(self):
        a = self.args
        self.clients = a.clients.split(",") if a.clients else ALL_CLIENTS
        only = re.compile(a.only) if a.only else None
        t0 = time.time()
        self.setup()
        log(f"setup took {time.time() - t0:.0f}s")
        for sc in SCENARIOS:
            if only and not only.search(sc.name):
                continue
            try:
                self.run_scenario(sc)
            except Exception as e:  # one broken scenario must not stop the lab
                log(f"{sc.name}: lab error {e!r}")
        # scenarios.json: merge with entries of scenarios not rerun
        path = os.path.join(OUT, "scenarios.json")
        old = []
        if only and os.path.exists(path):
            old = [e for e in json.load(open(path)) if not only.search(e["scenario"])]
        allr = sorted(old + self.results, key=lambda e: (e["scenario"], e["client"]))
        with open(path, "w") as f:
            json.dump(allr, f, indent=1)
            f.write("\n")
        labeller.label_all(OUT)
        log(f"lab run took {time.time() - t0:.0f}s")

    def cleanup(self):
        for name, p in reversed(procs):
            stop(name, p, wait=20 if name in ("dockerd", "containerd") else 5)
        for m in mounts:
            sh(["umount", "-l", m], check=False)
        # mounts dockerd/containerd may have left under the temp root
        try:
            for line in reversed(open("/proc/mounts").read().splitlines()):
                mp = line.split()[1]
                if mp.startswith(self.T):
                    sh(["umount", "-l", mp], check=False)
        except OSError:
            pass
        if self.hosts_backup is not None:
            with open("/etc/hosts", "w") as f:
                f.write(self.hosts_backup)
        for d in self.certsd_created:
            shutil.rmtree(d, ignore_errors=True)
        if not self.keyjson_existed and os.path.exists("/etc/docker/key.json"):
            os.remove("/etc/docker/key.json")  # dockerd 20.10 writes it
        for d, existed in (("/etc/docker/certs.d", self.certsd_existed), ("/etc/docker", self.etcdocker_existed)):
            if not existed:
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        if not self.args.keep:
            shutil.rmtree(self.T, ignore_errors=True)
        else:
            log("kept", self.T)


def shq(a):
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="regex of scenario names to run")
    ap.add_argument("--clients", help="comma list of clients (default all)")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp root")
    args = ap.parse_args()
    lab = Lab(args)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda *_: sys.exit(1))
    try:
        lab.run()
    finally:
        lab.cleanup()


if __name__ == "__main__":
    main()
