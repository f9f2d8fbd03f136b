#!/usr/bin/env python3
"""The least a parted upload with Drover's guarantees must do, without HTTP,
a database or a zip check: receive the file over loopback TCP part by part
(the sender waits for each part's acknowledgement, like an HTTP client),
write each part to a file, fsync it before acknowledging it, and hash every
byte with SHA-256 twice (the part's hash and the whole file's). Prints the
seconds taken. bench/files runs it on the same file, disk and part size as
the parted upload, as a second baseline beside cp.

usage: upload_floor.py FILE OUT PART_BYTES"""
import hashlib
import os
import socket
import sys
import threading
import time

src, dst, part = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = os.path.getsize(src)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)


def send():
    with socket.create_connection(listener.getsockname()) as conn, open(src, "rb") as f:
        offset = 0
        while offset < size:
            n = min(part, size - offset)
            conn.sendfile(f, offset, n)
            offset += n
            conn.recv(1)


start = time.monotonic()
sender = threading.Thread(target=send)
sender.start()
conn, _ = listener.accept()
buf = memoryview(bytearray(1 << 20))
fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
whole = hashlib.sha256()
received = 0
while received < size:
    n, got, h = min(part, size - received), 0, hashlib.sha256()
    while got < n:
        k = conn.recv_into(buf[: min(len(buf), n - got)])
        if k == 0:
            sys.exit("the sender stopped early")
        os.pwrite(fd, buf[:k], received + got)
        h.update(buf[:k])
        whole.update(buf[:k])
        got += k
    os.fsync(fd)
    received += n
    h.hexdigest()
    conn.send(b"k")
sender.join()
os.close(fd)
whole.hexdigest()
print("%.3f" % (time.monotonic() - start))
