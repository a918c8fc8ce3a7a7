"""Fault servers of the pullscan lab (Python stdlib only).

Each server listens on its own loopback port (::1, the address lab.test
resolves to; the proxies on 127.0.0.1) and plays a minimal Docker
Registry v2 API (ping, manifests, blobs, uploads) with one fault injected.
Run as: python3 faults.py CONFIG.json   (a list of server specs, see lab.py)
"""
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

FIREWALL_HTML = b"""<html><head><title>Access Denied</title></head>
<body><h1>Access Denied</h1>
<p>Your request to this site has been blocked by the corporate firewall (Web Security Gateway, policy: Block Uncategorized).</p>
<p>If you believe this is an error, contact the IT service desk and quote incident ID 0x5f3a91.</p>
</body></html>
"""

HTML_5XX = {
    500: b"<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>\n",
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n",
    503: b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>\n",
}

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 206: "Partial Content", 307: "Temporary Redirect",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 407: "Proxy Authentication Required",
           413: "Request Entity Too Large", 416: "Requested Range Not Satisfiable", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def errjson(code, message, detail=None):
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode() + b"\n"


class Image:
    """Manifests and blobs served by the fault registries, read from an OCI layout."""

    def __init__(self, layout, tag):
        self.blobs = {}
        self.manifests = {}
        bdir = os.path.join(layout, "blobs", "sha256")
        for name in os.listdir(bdir):
            with open(os.path.join(bdir, name), "rb") as f:
                self.blobs["sha256:" + name] = f.read()
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        for m in index["manifests"]:
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
                self.manifests[tag] = (m["digest"], m["mediaType"])
                self.manifests[m["digest"]] = (m["digest"], m["mediaType"])
        self.layers = set()
        for dig, mt in list(self.manifests.values()):
            man = json.loads(self.blobs[dig])
            for layer in man.get("layers", []):
                self.layers.add(layer["digest"])


class Handler(socketserver.StreamRequestHandler):
    spec = None
    image = None

    def read_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return None
        parts = line.decode("latin-1").split()
        if len(parts) < 2:
            return None
        headers = {}
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        n = int(headers.get("content-length", "0") or 0)
        if n and self.spec["mode"] != "payload-too-large":
            body = self.rfile.read(n)
        return parts[0], parts[1], headers, body, n

    def send(self, status, body=b"", ctype="application/json; charset=utf-8", extra=None, head=False, length=None):
        hdr = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
               "Docker-Distribution-Api-Version: registry/2.0",
               f"Content-Type: {ctype}",
               f"Content-Length: {len(body) if length is None else length}",
               "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())]
        for k, v in (extra or {}).items():
            hdr.append(f"{k}: {v}")
        self.wfile.write(("\r\n".join(hdr) + "\r\n\r\n").encode())
        if not head:
            self.wfile.write(body)
        self.wfile.flush()

    def reset(self):
        # RST instead of FIN: SO_LINGER with a zero timeout, then close (no TLS close_notify).
        conn = self.connection
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except Exception:
                pass
        conn.close()
        raise ConnectionAbortedError

    def handle(self):
        mode = self.spec["mode"]
        if mode == "blackhole":
            # accept and never answer (the TLS handshake never starts)
            time.sleep(3600)
            return
        try:
            self.connection.settimeout(120)
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()
            while True:
                req = self.read_request()
                if req is None:
                    return
                if not self.answer(*req):
                    return
        except (ConnectionError, ssl.SSLError, OSError, socket.timeout):
            return

    def answer(self, method, path, headers, body, blen):
        mode = self.spec["mode"]
        head = method == "HEAD"
        path = path.split("?", 1)[0]
        if mode == "hang-after-tls":
            time.sleep(3600)
            return False
        if mode == "firewall-html":
            self.send(403, FIREWALL_HTML, "text/html; charset=utf-8", head=head)
            return True
        if mode == "status":
            st, kind = self.spec["status"], self.spec["body"]
            if path.rstrip("/") == "/v2" and self.spec.get("ping_ok"):
                self.send(200, b"{}", head=head)
                return True
            if kind == "html":
                self.send(st, HTML_5XX.get(st, FIREWALL_HTML), "text/html", head=head)
            else:
                self.send(st, errjson(self.spec["code"], self.spec["message"]), head=head,
                          extra=self.spec.get("headers"))
            return True
        # minimal registry
        if path.rstrip("/") == "/v2":
            self.send(200, b"{}", head=head)
            return True
        segs = path.split("/")
        if self.image is None and method in ("GET", "HEAD"):
            code = "MANIFEST_UNKNOWN" if "manifests" in segs else "BLOB_UNKNOWN"
            self.send(404, errjson(code, code.lower().replace("_", " ")), head=head)
            return True
        if "manifests" in segs:
            ref = segs[-1]
            m = self.image.manifests.get(ref)
            if not m:
                self.send(404, errjson("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref}), head=head)
                return True
            dig, mt = m
            data = self.image.blobs[dig]
            self.send(200, data, mt, {"Docker-Content-Digest": dig}, head=head)
            return True
        if "uploads" in segs or (method in ("PATCH", "PUT", "POST") and "blobs" in segs):
            if mode == "payload-too-large" and method in ("PATCH", "PUT"):
                body = b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
                self.send(413, body, "text/html", {"Connection": "close"})
                return False
            if method == "POST":
                name = "/".join(segs[2:segs.index("blobs")])
                self.send(202, b"", extra={"Location": f"/v2/{name}/blobs/uploads/lab-upload-1",
                                           "Range": "0-0", "Docker-Upload-Uuid": "lab-upload-1"})
                return True
            self.send(202, b"", extra={"Location": path, "Range": f"0-{max(blen - 1, 0)}"})
            return True
        if "blobs" in segs:
            dig = segs[-1]
            data = self.image.blobs.get(dig)
            if data is None:
                self.send(404, errjson("BLOB_UNKNOWN", "blob unknown to registry", dig), head=head)
                return True
            is_layer = dig in self.image.layers
            start = 0
            rng = headers.get("range")
            if rng and rng.startswith("bytes="):
                try:
                    start = int(rng[6:].split("-")[0])
                except ValueError:
                    start = 0
            payload = data[start:]
            if is_layer and mode == "bad-digest":
                payload = bytes(b ^ 0x5A for b in payload[:4096]) + payload[4096:]
            status = 206 if start else 200
            extra = {"Docker-Content-Digest": dig, "Accept-Ranges": "bytes"}
            if start:
                extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            ctype = "application/octet-stream"
            if head or not is_layer or mode == "bad-digest":
                self.send(status, payload, ctype, extra, head=head)
                return True
            if mode == "reset-mid-blob":
                self.send(status, b"", ctype, extra, length=len(payload))
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                time.sleep(0.2)
                self.reset()
            if mode == "trickle":
                self.send(status, b"", ctype, extra, length=len(payload))
                for i in range(0, len(payload), 512):
                    self.wfile.write(payload[i:i + 512])
                    self.wfile.flush()
                    time.sleep(0.5)
                return False
            self.send(status, payload, ctype, extra)
            return True
        self.send(404, errjson("UNSUPPORTED", "not found"), head=head)
        return True


class ProxyHandler(socketserver.StreamRequestHandler):
    spec = None

    def handle(self):
        line = self.rfile.readline(65537)
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
        if self.spec["mode"] == "proxy-407":
            body = b"<html><body><h1>407 Proxy Authentication Required</h1><p>Access to the web is restricted. Please sign in to the corporate proxy.</p></body></html>\n"
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"CORP-PROXY\"\r\n"
                             b"Content-Type: text/html\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        else:
            body = b"<html><body><h1>403 Forbidden</h1><p>CONNECT to this destination is blocked by proxy policy.</p></body></html>\n"
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        self.wfile.flush()


class TLSServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    ctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass


class TLSServer6(TLSServer):
    address_family = socket.AF_INET6


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    servers = []
    for spec in cfg["servers"]:
        if spec["mode"] in ("proxy-407", "proxy-403"):
            h = type("H", (ProxyHandler,), {"spec": spec})
        else:
            img = Image(spec["layout"], spec["tag"]) if spec.get("layout") else None
            h = type("H", (Handler,), {"spec": spec, "image": img})
        if spec["mode"].startswith("proxy-"):
            srv = TLSServer(("127.0.0.1", spec["port"]), h)
        else:
            srv = TLSServer6(("::1", spec["port"]), h)
        if spec.get("tls"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cfg["cert"], cfg["key"])
            srv.ctx = ctx
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    main()
