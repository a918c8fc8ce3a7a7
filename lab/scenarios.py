"""Scenarios of the pullscan fault lab and the rules that label captured lines.

A scenario names one injected fault, the cause id a whole-file scan should rank
first, and the image reference the clients are pointed at. Labels come from the
scenario (what was injected), never from pullscan: a failure line gets the
scenario's cause when it carries the evidence of that fault, and
`symptom.unspecified` when it reports a failure without saying why.
"""
import re

HOST = "lab.test"

# Real registries (docker-registry, one process each, shared storage).
REG = dict(plain=5000, tls=5001, auth=5002, selfsigned=5003, expired=5004,
           wronghost=5005, unknownca=5006, plain2=5010)
# Python fault servers (lab/faults.py).
FAULT = dict(firewall=5101, denied=5102, azure=5103, ratelimit=5104,
             s500json=5105, s500html=5106, s502json=5107, s502html=5108,
             s503json=5109, s503html=5110, p413=5111, blackhole=5112,
             hangtls=5113, reset=5114, baddigest=5115, trickle=5116)
PROXY = dict(p407=5201, p403=5202, dead=5203)
CLOSED = 5999
# Ports whose certificate chains to the lab CA and that the clients are told to trust.
TRUSTED = [REG["tls"], REG["auth"], REG["expired"], REG["wronghost"]] + [
    p for k, p in FAULT.items() if k != "blackhole"]


def ref(port, repo="lab/hello", tag="1.0", host=HOST):
    return f"{host}:{port}/{repo}:{tag}"


# Evidence of each cause in a line (case-insensitive).
EVIDENCE = {
    "auth.unauthorized": r"unauthori[sz]ed|authentication required|\b401\b|no basic auth credentials|incorrect username or password|invalid username/password|authorization failed|authenticat",
    "auth.denied": r"denied|\b403\b|forbidden",
    "image.not-found": r"StatusNotFound|manifest unknown|name unknown|not found|\b404\b|does not exist|no such image|unknown",
    "image.bad-reference": r"invalid reference|reference format|repository name|must be lowercase|invalid argument|pars(e|ing) .*reference|invalid",
    "image.platform-mismatch": r"platform|architecture|manifest list|no match",
    "image.integrity": r"digest|checksum|does not match|mismatch|verif|size",
    "network.dns": r"no such host|server misbehaving|name resolution|lookup ",
    "network.timeout": r"timeout|timed out|deadline exceeded|i/o timeout",
    "network.tls-handshake-timeout": r"TLS handshake timeout|handshake",
    "network.connection-reset": r"reset by peer|connection reset|unexpected EOF|\bEOF\b|broken pipe|short read|closed",
    "network.connection-refused": r"connection refused",
    "network.proxy": r"proxy|\b407\b",
    "network.firewall": r"firewall|not allowed access|\b403\b|forbidden|access denied",
    "tls.certificate": r"x509|certificate|tls: ",
    "tls.plain-http-registry": r"HTTP response to HTTPS client|does not look like a TLS handshake|oversized record",
    "registry.unavailable": r"\b50[0-4]\b|internal server error|bad gateway|service (temporarily )?unavailable|unavailable",
    "registry.rate-limit": r"\b429\b|toomanyrequests|too many requests|rate limit",
    "node.disk-full": r"no space left on device|disk quota|ENOSPC",
    "runtime.daemon-unavailable": r"cannot connect|daemon running|no such file or directory|dial unix|failed to dial|connection error|nonexistent",
    "policy.never-pull": r"never|image not known|no such image|not present|unable to find image|not found|does not exist",
    "policy.signature": r"polic|reject|signature",
    "pull.cancelled": r"cancel|interrupt|signal|aborted",
    "push.payload-too-large": r"\b413\b|too large|request entity",
}

# A line that reports some failure (looked at only if no evidence matched).
FAIL = re.compile(
    r"\berror\b|\berr\b|level=(error|fatal|warning)|\bfailed\b|\bfailure\b|\bfatal\b|\bFATA\b|\bERRO\b|"
    r"\bWARN\b|denied|unauthorized|refused|timeout|timed out|\bcannot\b|\bunable\b|no such|x509|forbidden|"
    r"reset by peer|\bEOF\b|too many requests|not found|does not exist|unknown|status: \d{3}|\b[45]\d\d\b",
    re.I)

# Lines that are not failures whatever the scenario.
BENIGN = [
    (r"Retrying in \d+ seconds?", "retry notice: the attempt that follows decides"),
    (r"^Trying to pull ", "progress"),
    (r"^Getting image source signatures|^Copying (blob|config)|^Writing manifest|^Storing signatures", "progress"),
    (r"^[\w.-]+: (Pulling from |Pulling fs layer$|Waiting$|Download complete$|Pull complete$|Verifying Checksum$|Already exists$|Downloading|Extracting)|^Digest: sha256|^Status: (Downloaded|Image is up to date)", "docker progress"),
    (r"^The push refers to repository|^\w+: (Preparing|Pushing|Pushed|Layer already exists)|^Using default tag", "docker progress"),
    (r'msg="active check failed" error="context canceled"', "ctr's progress display stopping when the pull ends; not itself a failure report"),
    (r"\|\s*$|(resolving|resolved|waiting|downloading|uploading|done|exists|committed)\s+\||^elapsed: |^unpacking |^done: ", "ctr progress"),
    (r"^\s*$", "blank"),
]

# dockerd/ctr lines that name a failure the client then gets past.
FALLBACK_NONE = [
    (r"Error getting v2 registry: .*(EOF|HTTP response to HTTPS client|oversized record)", "dockerd tries HTTPS first on an insecure registry; the plain-HTTP fallback then works"),
    (r"server gave HTTP response to HTTPS client", "HTTPS attempt before the plain-HTTP fallback that then works"),
]


class Scenario:
    def __init__(self, name, cause, ref=None, op="pull", creds=None, insecure=False, env=None,
                 clients=None, timeout=45, evidence=None, overrides=(), none=(), note="", **kw):
        self.name, self.cause, self.ref, self.op = name, cause, ref, op
        self.creds, self.insecure, self.env = creds, insecure, env or {}
        self.clients = clients
        self.timeout = timeout
        self.evidence = re.compile(evidence or EVIDENCE.get(cause, r"(?!x)x"), re.I)
        self.overrides = [(re.compile(r, re.I), c, n) for r, c, n in overrides]
        self.none = [(re.compile(r, re.I), n) for r, n in none]
        self.note = note
        self.kw = kw

    def label(self, line, client):
        for rx, cause, note in self.overrides:
            if rx.search(line):
                return cause, note
        for rx, note in self.none:
            if rx.search(line):
                return "none", note
        for rx, note in BENIGN:
            if re.search(rx, line):
                return "none", note
        if self.cause != "pull.cancelled" and re.search(r"context canceled", line):
            return "pull.cancelled", ("the lab's timeout killed the client mid-pull; the daemon reports the "
                                      "cancel (the injected fault shows in the lines before)")
        if self.cause == "none":
            if FAIL.search(line):
                return "symptom.unspecified", "LAB: failure-looking line in a scenario that injects no fault; review"
            return "none", ""
        if self.evidence.search(line):
            return self.cause, f"scenario {self.name}: {self.note or self.cause}"
        if FAIL.search(line):
            return "symptom.unspecified", f"reports a failure without naming the injected fault ({self.cause})"
        return "none", ""


NOTFOUND_OR_DENIED = (r"pull access denied.*may require 'docker login'", "image.not-found-or-denied",
                      "docker's ambiguous 'pull access denied ... may require docker login'")
PROXY_ENV = lambda port: {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}",
                          "NO_PROXY": "", "no_proxy": ""}

SCENARIOS = [
    Scenario("ok-tls", "none", ref(REG["tls"]), note="baseline: TLS registry with the lab CA"),
    Scenario("ok-plain-http", "none", ref(REG["plain"]), insecure=True, none=FALLBACK_NONE,
             note="baseline: plain-HTTP registry marked insecure"),
    Scenario("auth-no-creds", "auth.unauthorized", ref(REG["auth"]), overrides=[NOTFOUND_OR_DENIED],
             note="htpasswd registry, no credentials"),
    Scenario("auth-wrong-password", "auth.unauthorized", ref(REG["auth"]), creds="bad",
             overrides=[NOTFOUND_OR_DENIED], note="htpasswd registry, wrong password"),
    Scenario("tag-not-found", "image.not-found", ref(REG["tls"], tag="nope"), note="tag absent"),
    Scenario("repo-not-found", "image.not-found", ref(REG["tls"], repo="lab/nosuch"), note="repository absent",
             overrides=[NOTFOUND_OR_DENIED]),
    Scenario("bad-reference", "image.bad-reference", f"{HOST}:{REG['tls']}/Lab/Hello:1.0",
             overrides=[(r"StatusNotFound|: not found$", "image.not-found",
                         "ctr does not check the reference; the registry answers 404 for the upper-case name")],
             note="upper-case repository name"),
    Scenario("platform-mismatch", "image.platform-mismatch", ref(REG["tls"], repo="lab/armonly"),
             note="index with an arm64 image only, pulled on amd64"),
    Scenario("tls-unknown-ca", "tls.certificate", ref(REG["unknownca"]), note="x509: certificate signed by unknown authority"),
    Scenario("tls-self-signed", "tls.certificate", ref(REG["selfsigned"]), note="self-signed certificate"),
    Scenario("tls-expired", "tls.certificate", ref(REG["expired"]), note="expired certificate"),
    Scenario("tls-wrong-host", "tls.certificate", ref(REG["wronghost"]), note="certificate for another host name"),
    Scenario("plain-http-as-https", "tls.plain-http-registry", ref(REG["plain2"]),
             note="plain-HTTP registry addressed as HTTPS"),
    Scenario("firewall-403-html", "network.firewall", ref(FAULT["firewall"]),
             note="403 with a corporate firewall HTML page"),
    Scenario("denied-403-json", "auth.denied", ref(FAULT["denied"]), note="403 with registry DENIED JSON"),
    Scenario("azure-ip-403", "network.firewall", ref(FAULT["azure"]),
             evidence=EVIDENCE["network.firewall"] + r"|denied",
             note="ACR-style 403 DENIED: client with IP is not allowed access"),
    Scenario("rate-limit-429", "registry.rate-limit", ref(FAULT["ratelimit"]), timeout=60, note="429 TOOMANYREQUESTS"),
    Scenario("status-500-json", "registry.unavailable", ref(FAULT["s500json"]), note="500 with JSON errors body"),
    Scenario("status-500-html", "registry.unavailable", ref(FAULT["s500html"]), note="500 with HTML body"),
    Scenario("status-502-json", "registry.unavailable", ref(FAULT["s502json"]), note="502 with JSON errors body"),
    Scenario("status-502-html", "registry.unavailable", ref(FAULT["s502html"]), note="502 with HTML body"),
    Scenario("status-503-json", "registry.unavailable", ref(FAULT["s503json"]), note="503 with JSON errors body"),
    Scenario("status-503-html", "registry.unavailable", ref(FAULT["s503html"]), note="503 with HTML body"),
    Scenario("push-413", "push.payload-too-large", ref(FAULT["p413"], repo="lab/pushed"), op="push", timeout=40,
             overrides=[(r"broken pipe|: EOF", "push.payload-too-large",
                         "the server answered 413 and closed the connection while the body was being sent")],
             note="413 Request Entity Too Large on blob upload"),
    Scenario("push-no-creds", "auth.unauthorized", ref(REG["auth"], repo="lab/pushed"), op="push",
             note="push to the htpasswd registry without credentials"),
    Scenario("blackhole", "network.tls-handshake-timeout", ref(FAULT["blackhole"]), timeout=40,
             note="port accepts and never answers (TLS handshake never completes)"),
    Scenario("hang-after-tls", "network.timeout", ref(FAULT["hangtls"]), timeout=40,
             note="TLS completes, HTTP never answered"),
    Scenario("reset-mid-blob", "network.connection-reset", ref(FAULT["reset"], repo="lab/big"), timeout=60, blob_fault=True,
             note="connection reset while sending the layer"),
    Scenario("digest-mismatch", "image.integrity", ref(FAULT["baddigest"], repo="lab/big"), timeout=40, blob_fault=True,
             note="layer bytes do not match the digest (also for Range requests)"),
    Scenario("proxy-dead", "network.proxy", ref(REG["tls"]), env=PROXY_ENV(PROXY["dead"]),
             evidence=EVIDENCE["network.proxy"] + r"|connection refused", note="HTTPS_PROXY to a closed port"),
    Scenario("proxy-407", "network.proxy", ref(REG["tls"]), env=PROXY_ENV(PROXY["p407"]),
             evidence=EVIDENCE["network.proxy"] + r"|authentication required", note="proxy answers 407 to CONNECT"),
    Scenario("proxy-403", "network.proxy", ref(REG["tls"]), env=PROXY_ENV(PROXY["p403"]),
             evidence=EVIDENCE["network.proxy"] + r"|forbidden|\b403\b", note="proxy answers 403 to CONNECT"),
    Scenario("dns-invalid", "network.dns", ref(5000, host="registry.lab.invalid"), note="host name under .invalid"),
    Scenario("closed-port", "network.connection-refused", ref(CLOSED), note="nothing listens on the port"),
    Scenario("disk-full", "node.disk-full", ref(REG["tls"], repo="lab/big"), tmpfs=True,
             note="storage root on a 3 MB tmpfs"),
    Scenario("signature-reject", "policy.signature", ref(REG["tls"]), policy="reject",
             clients=["skopeo", "podman", "buildah"], note="signature policy rejects everything"),
    Scenario("never-pull", "policy.never-pull", ref(REG["tls"], repo="lab/absent"), op="run-never",
             clients=["podman", "buildah", "docker"], note="--pull=never for an image not present"),
    Scenario("daemon-down", "runtime.daemon-unavailable", ref(REG["tls"]), daemon_down=True,
             clients=["podman", "ctr", "docker"], note="client pointed at a socket nobody serves"),
    Scenario("cancelled", "pull.cancelled", ref(FAULT["trickle"], repo="lab/big"), cancel_after=8,
             note="SIGINT to the client while the layer trickles"),
]
