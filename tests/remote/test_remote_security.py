"""Who may talk to a worker: loopback without ceremony, anything else only over mutual TLS.

No test here sends a packet beyond this machine: refusals happen before any connection, and
the TLS cluster listens on 127.0.0.1.
"""

from __future__ import annotations

import logging
import stat

import pytest

from latent_atelier.app.remote import worker_main
from latent_atelier.app.remote.addresses import RemoteSetupError, check_secure, parse_address
from latent_atelier.app.remote.certificates import dask_security, make_certificates
from latent_atelier.app.remote.session import RemoteSession


def test_addresses_parse_with_defaults() -> None:
    assert parse_address("127.0.0.1").url == "tcp://127.0.0.1:8786"
    assert parse_address("tls://gpu-box:9000").url == "tls://gpu-box:9000"
    assert parse_address("tcp://[::1]:8786").is_loopback
    assert parse_address("localhost:1234").is_loopback
    assert not parse_address("tcp://192.0.2.7").is_loopback
    for bad in ("", "http://x:1", "tcp://:80", "tcp://host:port", "tcp://host:70000"):
        with pytest.raises(RemoteSetupError):
            parse_address(bad)


@pytest.mark.parametrize("address", ["tcp://192.0.2.7:8786", "10.1.2.3", "tcp://gpu-box:8786"])
def test_a_non_loopback_address_without_tls_is_refused_with_set_up_advice(address: str) -> None:
    with pytest.raises(RemoteSetupError, match="refusing unencrypted") as info:
        RemoteSession.connect(address)
    assert "--make-certs" in str(info.value) and "--tls-dir" in str(info.value)


def test_tls_needs_a_certificate_folder_with_the_client_key(tmp_path) -> None:
    with pytest.raises(RemoteSetupError, match="needs a certificate folder"):
        RemoteSession.connect("tls://192.0.2.7:8786")
    (tmp_path / "ca.pem").write_text("x")
    with pytest.raises(RemoteSetupError, match=r"lacks client\.pem, client-key\.pem"):
        check_secure(parse_address("tls://192.0.2.7"), tmp_path)


def test_worker_refuses_to_listen_on_the_network_without_tls(capsys) -> None:
    assert worker_main.main(["--listen", "tcp://0.0.0.0:8786"]) == 2
    err = capsys.readouterr().err
    assert "refusing unencrypted" in err and "--make-certs" in err
    assert worker_main.main([]) == 2
    assert "--listen" in capsys.readouterr().err


def test_make_certs_writes_private_keys_readable_by_the_owner_only(tmp_path, capsys) -> None:
    assert worker_main.main(["--make-certs", str(tmp_path / "certs")]) == 0
    for name in ("client-key.pem", "worker-key.pem"):
        mode = stat.S_IMODE((tmp_path / "certs" / name).stat().st_mode)
        assert mode == 0o600
    assert worker_main.main(["--make-certs", str(tmp_path / "certs")]) == 2  # never overwrites
    assert "already holds" in capsys.readouterr().err


def test_tls_worker_accepts_its_own_client_key_and_refuses_another(tmp_path) -> None:
    from distributed import LocalCluster

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    make_certificates(ours)
    make_certificates(theirs)
    with LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tls://",
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",
        security=dask_security(ours, "worker"),
        silence_logs=logging.CRITICAL,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        with RemoteSession.connect(address, tls_dir=ours) as session:
            assert session.client.status == "running"
        with pytest.raises(RemoteSetupError, match="no worker answers"):
            RemoteSession.connect(address, tls_dir=theirs, timeout_s=3)
        with pytest.raises(RemoteSetupError, match="no worker answers"):  # plain TCP to TLS
            RemoteSession.connect(address.replace("tls://", "tcp://"), timeout_s=3)


def test_a_worker_loads_only_checkpoint_bytes_it_was_sent_with_their_hash() -> None:
    import hashlib

    from latent_atelier.app.remote.worker_tasks import ModelRef, cached_model

    with pytest.raises(ValueError, match="loads only what it is sent"):
        cached_model(ModelRef("bytes", "0" * 64, "/etc/passwd"), None)  # a path is no checkpoint
    data = b"some bytes"
    with pytest.raises(ValueError, match="do not match their hash"):
        cached_model(ModelRef("bytes", hashlib.sha256(b"other").hexdigest(), "x.pt"), data)
    with pytest.raises(ValueError, match="not a random model spec"):
        cached_model(ModelRef("random", "/models/x.pt"), None)
