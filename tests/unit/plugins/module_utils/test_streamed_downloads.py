"""Downloads at disk speed: a gzip result unpacked as it arrives (only the unpacked file written and hashed), with
the checks gzip.open makes (CRC, length, truncation, members, zero padding), and MD5 only when the storage sends
Content-MD5. Driven through AtomicWriter, as download() feeds it, chunk by chunk."""

import gzip
import hashlib
import os
import zlib

import pytest

from ansible_collections.secops.defender.plugins.module_utils import _downloads
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderIntegrityError
from ansible_collections.secops.defender.plugins.module_utils._files import CHUNK, AtomicWriter, commit_unpacked

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
