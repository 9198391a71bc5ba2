"""Downloads at disk speed: a gzip result unpacked as it arrives (only the unpacked file written and hashed), with
the checks gzip.open makes (CRC, length, truncation, members, zero padding), and MD5 only when the storage sends
Content-MD5. Driven through AtomicWriter, as download() feeds it, chunk by chunk, and through whole downloads over
real HTTPS (the emulator's storage host, or a storage host of the test's own that sends no Content-MD5)."""

import base64
import gzip
import hashlib
import os
import threading
import zlib

import pytest

from mde_emulator.state import deterministic_bytes

from ansible_collections.secops.defender.plugins.module_utils import _downloads
from ansible_collections.secops.defender.plugins.module_utils._client import DefenderClient
from ansible_collections.secops.defender.plugins.module_utils._downloads import DOWNLOAD_CHUNK
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderIntegrityError
from ansible_collections.secops.defender.plugins.module_utils._files import (
    CHUNK,
    HASH_BESIDE,
    AtomicWriter,
    AttemptWriters,
    commit_unpacked,
)
from ansible_collections.secops.defender.plugins.module_utils._live_response import live_response
from ansible_collections.secops.defender.plugins.module_utils._machines import target_list

from .conftest import WS1

PAYLOAD = os.urandom(300000) + b"evidence" * 100000


def fed(tmp_path, data, piece=65536, inflate=True):
    writer = AtomicWriter(str(tmp_path), "f.bin", inflate=inflate)
    for start in range(0, len(data), piece):
        writer.write(data[start:start + piece])
    return writer


@pytest.mark.parametrize("piece", [1, 7, 65536, 4 * 1024 * 1024])
def test_a_gzip_stream_is_unpacked_as_it_arrives_whatever_the_pieces(tmp_path, piece):
    data = gzip.compress(PAYLOAD, mtime=0)
    writer = fed(tmp_path, data if piece > 1 else data[:5000], piece)
    if piece == 1:  # a byte at a time: the first byte alone cannot show gzip, so the file is unpacked at commit
        for start in range(5000, len(data), 65536):
            writer.write(data[start:start + 65536])
    assert commit_unpacked(writer) is True
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert writer.sha256 == hashlib.sha256(PAYLOAD).hexdigest() and writer.size == len(PAYLOAD)
    assert os.listdir(str(tmp_path)) == ["f.bin"]


def test_the_packed_stream_is_never_written(tmp_path):
    writer = fed(tmp_path, gzip.compress(PAYLOAD, mtime=0)[:100000])
    writer.handle.flush()
    assert writer.gunzip is not None and os.path.getsize(writer.tmp_path) == writer.size
    assert writer.size > 0 and writer.received == 100000
    writer.abort()


def test_members_and_zero_padding_unpack_as_gzip_open_would(tmp_path):
    data = gzip.compress(b"one ", mtime=0) + b"\0" * 10 + gzip.compress(b"two", mtime=0)
    writer = fed(tmp_path, data, 3)
    assert commit_unpacked(writer) is True
    assert (tmp_path / "f.bin").read_bytes() == gzip.decompress(data) == b"one two"


@pytest.mark.parametrize("damage,error", [
    (lambda d: d[:len(d) // 2], EOFError),                                 # cut short
    (lambda d: d[:-8] + b"\0\0\0\0" + d[-4:], zlib.error),                  # CRC
    (lambda d: d[:-4] + b"\1\0\0\0", zlib.error),                           # length
    (lambda d: d + b"garbage!", zlib.error),                                # not a member after the last one
    (lambda d: d[:20] + bytes(b ^ 0xFF for b in d[20:40]) + d[40:], zlib.error),  # a damaged body
])
def test_a_stream_that_does_not_decode_fails_its_commit_and_leaves_nothing(tmp_path, damage, error):
    writer = fed(tmp_path, damage(gzip.compress(PAYLOAD, mtime=0)))
    with pytest.raises(error):
        commit_unpacked(writer)
    assert os.listdir(str(tmp_path)) == []


def test_a_bomb_is_inflated_in_bounded_pieces(tmp_path):
    bomb = gzip.compress(b"\0" * (3 * CHUNK + 5), mtime=0)
    writer = AtomicWriter(str(tmp_path), "f.bin", inflate=True)
    sizes = []
    writer._put = lambda piece: sizes.append(len(piece))
    writer.write(bomb)
    assert max(sizes) <= CHUNK and sum(sizes) == 3 * CHUNK + 5
    writer.abort()


def test_without_inflate_a_gzip_file_is_kept_or_unpacked_at_commit_as_before(tmp_path):
    writer = fed(tmp_path, gzip.compress(b"payload", mtime=0), inflate=False)
    assert writer.gunzip is None
    assert commit_unpacked(writer) is True
    assert (tmp_path / "f.bin").read_bytes() == b"payload"


def test_md5_is_checked_when_the_storage_sends_it_and_only_then():
    body = b"result bytes"
    md5 = hashlib.md5(body)
    good = {"Content-MD5": __import__("base64").b64encode(md5.digest()).decode(), "Content-Length": str(len(body))}
    _downloads._check_received(good, len(body), md5, body[:2], "link")
    with pytest.raises(DefenderIntegrityError, match="MD5"):
        _downloads._check_received(dict(good, **{"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}), len(body), md5,
                                   body[:2], "link")
    _downloads._check_received({"Content-Length": str(len(body))}, len(body), None, body[:2], "link")
    with pytest.raises(DefenderIntegrityError, match="of 13 bytes"):
        _downloads._check_received({"Content-Length": "13"}, len(body), None, body[:2], "link")


# --- whole downloads, over real HTTPS through the real client ----------------------------------------------------
GETFILE = "C:\\Windows\\Temp\\boundary.bin"


def fetched(client, control, tmp_path, size, encoding):
    """A GetFile of `size` bytes brought home by live response from the emulator: (its entry, the bytes it holds)."""
    control("POST", "/settings", {"getfile_encoding": encoding})
    control("POST", "/seed", {"machines": [{"id": WS1, "computerDnsName": "ws1", "osPlatform": "Windows11",
                                            "files": {GETFILE: {"size": size}}}]})
    result = live_response(client, [{"type": "GetFile", "path": GETFILE}], "boundaries", target_list(machines=[WS1]),
                           dest=str(tmp_path), poll_interval=5)
    stored = result["results"][0]["files"][0]
    return stored, deterministic_bytes("%s:%s" % (WS1, GETFILE.lower()), size)


@pytest.mark.parametrize("size", [DOWNLOAD_CHUNK - 1, DOWNLOAD_CHUNK, DOWNLOAD_CHUNK + 1, 3 * DOWNLOAD_CHUNK + 5])
@pytest.mark.parametrize("encoding", ["raw", "gzip"])
def test_a_result_around_the_read_size_arrives_whole_and_md5_hashed_once(
        client, control, fast, tmp_path, monkeypatch, size, encoding):
    made = []
    real_new = _downloads.hashlib.new
    monkeypatch.setattr(_downloads.hashlib, "new", lambda name, *a, **k: made.append(name) or real_new(name, *a, **k))
    stored, content = fetched(client, control, tmp_path, size, encoding)
    with open(stored["path"], "rb") as handle:
        assert handle.read() == content
    assert stored["sha256"] == hashlib.sha256(content).hexdigest() and stored["size"] == size
    assert stored["unpacked"] is (encoding == "gzip")
    # One request, checked against the storage's Content-MD5: one MD5, no retry.
    assert len([e for e in control.log("blob") if "/liveresponse/" in e["path"]]) == 1
    assert made == ["md5"]


class _Storage:
    """A storage host of our own, over HTTPS: it answers every GET with `body` and `headers`, nothing more (the
    emulator always sends Content-MD5; real storage sends it only for blobs uploaded with one)."""

    def __init__(self, body, headers, folder):
        import ssl
        import threading

        import trustme
        from werkzeug.serving import make_server
        from werkzeug.wrappers import Response

        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        self.ca_path = str(folder / "storage-ca.pem")
        authority.cert_pem.write_to_path(self.ca_path)
        self.requests = []

        def app(environ, start_response):
            self.requests.append(dict((k, v) for k, v in environ.items() if k.startswith("HTTP_")))
            return Response(body, 200, headers=headers)(environ, start_response)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
        self.url = "https://127.0.0.1:%d/blobs/result.bin?sv=1&sig=secret" % self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()


@pytest.mark.parametrize("size", [10, DOWNLOAD_CHUNK, 2 * DOWNLOAD_CHUNK + 3])
def test_without_content_md5_nothing_is_md5_hashed(tmp_path, tmp_path_factory, monkeypatch, size):
    body = os.urandom(size)
    made = []
    real_new = _downloads.hashlib.new
    monkeypatch.setattr(_downloads.hashlib, "new", lambda name, *a, **k: made.append(name) or real_new(name, *a, **k))
    storage = _Storage(body, {"Content-Type": "application/octet-stream"}, tmp_path_factory.mktemp("storage"))
    try:
        client = DefenderClient("https://127.0.0.1:1", token_provider=None, verify=storage.ca_path,
                                download_hosts=["127.0.0.1"])
        writers = AttemptWriters(str(tmp_path), "result.bin")
        assert client.download_fresh(lambda: storage.url, writers, check=commit_unpacked) == size
        assert made == [] and (tmp_path / "result.bin").read_bytes() == body
        assert writers.last.sha256 == hashlib.sha256(body).hexdigest()
        assert "HTTP_AUTHORIZATION" not in storage.requests[0]  # the link is its own credential
    finally:
        storage.close()


def test_with_content_md5_a_body_that_does_not_match_is_corrupt(tmp_path):
    body = os.urandom(DOWNLOAD_CHUNK + 7)
    # The MD5 of the body with its last byte changed (a fixed b"x" would be the body itself once in 256 runs).
    wrong = base64.b64encode(hashlib.md5(body[:-1] + bytes([body[-1] ^ 0xFF])).digest()).decode("ascii")
    storage = _Storage(body, {"Content-Type": "application/octet-stream", "Content-MD5": wrong}, tmp_path)
    try:
        client = DefenderClient("https://127.0.0.1:1", token_provider=None, verify=storage.ca_path,
                                download_hosts=["127.0.0.1"])
        with pytest.raises(DefenderIntegrityError, match="MD5") as caught:
            client.download(storage.url, AtomicWriter(str(tmp_path), "result.bin"))
        assert "secret" not in str(caught.value)  # the link's query is never shown
    finally:
        storage.close()


@pytest.mark.parametrize("offset", [-8, -5, -1, 0, 3])
def test_a_damaged_trailer_across_a_piece_boundary_fails_the_member(tmp_path, offset):
    """The first member's CRC-32 and length (its last 8 bytes) straddle the boundary between two read pieces."""
    first, second = gzip.compress(PAYLOAD, mtime=0), gzip.compress(b"second member", mtime=0)
    damaged = first[:-6] + bytes(b ^ 0x55 for b in first[-6:-4]) + first[-4:]  # the CRC's last two bytes
    data = damaged + second
    cut = len(first) + offset
    writer = AtomicWriter(str(tmp_path), "f.bin", inflate=True)
    writer.write(data[:cut])
    writer.write(data[cut:])
    with pytest.raises(zlib.error):
        commit_unpacked(writer)
    assert os.listdir(str(tmp_path)) == []
    good = AtomicWriter(str(tmp_path), "f.bin", inflate=True)
    good.write((first + second)[:cut])
    good.write((first + second)[cut:])
    assert commit_unpacked(good) is True and (tmp_path / "f.bin").read_bytes() == PAYLOAD + b"second member"


def hashing_threads():
    return [t for t in threading.enumerate() if t.name == "secops-download"]


def test_large_pieces_are_hashed_beside_the_write_in_order_and_the_thread_ends(tmp_path):
    before = len(hashing_threads())
    data = os.urandom(3 * HASH_BESIDE + 11)
    writer = AtomicWriter(str(tmp_path), "f.bin")
    writer.write(data[:HASH_BESIDE])
    writer.write(data[HASH_BESIDE:2 * HASH_BESIDE])
    assert len(hashing_threads()) == before + 1
    assert writer.sha256 == hashlib.sha256(data[:2 * HASH_BESIDE]).hexdigest()  # asked midway: all so far
    assert len(hashing_threads()) == before
    writer.write(data[2 * HASH_BESIDE:2 * HASH_BESIDE + 5])  # small: inline, after what the thread hashed
    writer.write(data[2 * HASH_BESIDE + 5:])
    writer.commit()
    assert writer.sha256 == hashlib.sha256(data).hexdigest() and writer.size == len(data)
    assert (tmp_path / "f.bin").read_bytes() == data and len(hashing_threads()) == before


def test_an_aborted_writer_leaves_neither_file_nor_thread(tmp_path):
    before = len(hashing_threads())
    writer = AtomicWriter(str(tmp_path), "f.bin", inflate=True)
    writer.write(gzip.compress(os.urandom(4 * HASH_BESIDE), mtime=0, compresslevel=1))
    writer.abort()
    assert os.listdir(str(tmp_path)) == [] and len(hashing_threads()) == before


def test_a_buffer_the_caller_reuses_is_hashed_before_write_returns(tmp_path):
    data = os.urandom(2 * HASH_BESIDE)
    writer = AtomicWriter(str(tmp_path), "f.bin")
    writer.write(data[:HASH_BESIDE])  # bytes: on the thread
    reused = bytearray(data[HASH_BESIDE:])
    writer.write(reused)  # a bytearray: hashed now, after what the thread holds
    reused[:] = b"\0" * len(reused)
    writer.commit()
    assert writer.sha256 == hashlib.sha256(data).hexdigest() and (tmp_path / "f.bin").read_bytes() == data
