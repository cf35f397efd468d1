#!/usr/bin/python3
"""fake_consul.py -- a broken Consul agent for tests/integration/test_registry.sh.

It answers only GET /v1/health/service/NAME, on 127.0.0.1, and exits after --deadline
seconds. Modes:
  garbage    the first --good answers are a good list (one instance, index 10), every
             later one is a wrong-typed list ([{"Service": 5}], index 11), at once
  sameindex  every answer is the good list at index 10, at once (a blocking query that
             does not block)
  big        every answer lists --big instances (ports 10000 up), more than a client's
             listing holds
It writes its port to --port-file once listening, and the number of health requests
it has answered to --count-file after each one."""
import argparse
import http.server
import os
import threading

GOOD = (b'[{"Node":{"Address":"127.0.0.1"},"Service":{"Service":"calc","Tags":["json"],'
        b'"Address":"127.0.0.1","Port":9101},"Checks":[{"Status":"passing"}]}]')
GARBAGE = b'[{"Service": 5}]'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["garbage", "sameindex", "big"])
    ap.add_argument("--good", type=int, default=2)
    ap.add_argument("--big", type=int, default=4100)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--count-file", required=True)
    ap.add_argument("--deadline", type=float, default=30)
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"n": 0}
    big = ("[" + ",".join('{"Node":{"Address":"127.0.0.1"},"Service":{"Service":"calc","Tags":["json"],'
                          '"Address":"127.0.0.1","Port":%d},"Checks":[{"Status":"passing"}]}' % (10000 + i)
                          for i in range(a.big)) + "]").encode()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if not self.path.startswith("/v1/health/service/"):
                self.send_error(404)
                return
            with lock:
                state["n"] += 1
                n = state["n"]
                with open(a.count_file, "w") as f:
                    f.write("%d\n" % n)
            good = a.mode != "garbage" or n <= a.good
            body = big if a.mode == "big" else GOOD if good else GARBAGE
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Consul-Index", "10" if good else "11")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    threading.Timer(a.deadline, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
