#!/usr/bin/env python3
"""A stand-in for Pyroscope's POST /ingest, for t_record.sh: 127.0.0.1
only.  Usage: pyro_receiver.py DIR [PORT]

Listens on PORT (0: any free one), writes the port it has to DIR/port, and
for each request writes the uploaded profile to DIR/N.pb.gz and a line of
JSON to DIR/requests.jsonl: the method, path, query parameters, content
type, the multipart parts' names and filenames, and what was wrong with
the request's shape (an empty list when nothing).  Answers 200 to a good
request, 400 to a bad one.
"""
import email.parser
import email.policy
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

OUT = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ctype = self.headers.get("Content-Type", "")
        wrong, parts, profile = [], [], None
        if url.path != "/ingest":
            wrong.append("path " + url.path)
        for key in ("name", "from", "until", "format"):
            if len(query.get(key, [])) != 1:
                wrong.append("query parameter %s missing or repeated" % key)
        if query.get("format") != ["pprof"]:
            wrong.append("format is not pprof")
        if not ctype.startswith("multipart/form-data"):
            wrong.append("content type " + ctype)
        else:
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                parts.append({"name": name, "filename": part.get_filename()})
                if name == "profile":
                    profile = part.get_payload(decode=True)
        if profile is None:
            wrong.append("no 'profile' part")
        elif profile[:2] != b"\x1f\x8b":
            wrong.append("the profile is not gzipped")
        n = sum(1 for _ in open(os.path.join(OUT, "requests.jsonl"))) \
            if os.path.exists(os.path.join(OUT, "requests.jsonl")) else 0
        if profile is not None:
            with open(os.path.join(OUT, "%d.pb.gz" % n), "wb") as f:
                f.write(profile)
        with open(os.path.join(OUT, "requests.jsonl"), "a") as f:
            f.write(json.dumps({"n": n, "method": "POST", "path": url.path,
                                "query": {k: v[0] for k, v in query.items()},
                                "content_type": ctype.split(";")[0], "parts": parts,
                                "wrong": wrong}) + "\n")
        self.send_response(400 if wrong else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()


HTTPServer.allow_reuse_address = True
server = HTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
with open(os.path.join(OUT, "port.tmp"), "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(os.path.join(OUT, "port.tmp"), os.path.join(OUT, "port"))
server.serve_forever()
