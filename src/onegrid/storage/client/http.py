"""`HttpStorage`: the storage client for any HTTP/WebDAV server (ours, dCache, EOS, XRootD,
StoRM, nginx's WebDAV module).

One `httpx.Client` with keep-alive (HTTP/1.1, as storages speak it) carries every request.
Bodies stream in `CHUNK`-sized pieces in both directions, so memory stays bounded whatever
the file size, and adler32/md5 are computed on the way. `davs://` is `https://`.
Third-party copy is in `tpc.py`, the Tape REST API in `tape.py`.
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from onegrid.errors import AlreadyExists, Conflict, NotFound, OneGridError
from onegrid.storage.client import tape, tpc
from onegrid.storage.client.base import (
    ChecksumMismatch,
    FileStat,
    Locality,
    PerfMarker,
    Progress,
    StageStatus,
    TpcMode,
    TransferFailed,
    TransferResult,
)
from onegrid.storage.client.checksums import CHUNK, Checksummer, mismatches, parse_digest, want_digest
from onegrid.storage.client.errors import error_for, network_error, raise_for

DAV = "{DAV:}"
PROPFIND_BODY = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
                 b"<D:resourcetype/><D:getcontentlength/><D:getlastmodified/></D:prop></D:propfind>")
MAX_REDIRECTS = 5


def http_url(url: str) -> str:
    """`davs://` → `https://`, `dav://` → `http://` (SPECS §1); others unchanged."""
    if url.startswith("davs://"):
        return "https://" + url[len("davs://"):]
    if url.startswith("dav://"):
        return "http://" + url[len("dav://"):]
    return url


def default_verify() -> bool | ssl.SSLContext:
    """Whom TLS trusts: `$ONEGRID_CA_BUNDLE` (a PEM file or a hashed directory), else the
    grid's `$X509_CERT_DIR` (e.g. /etc/grid-security/certificates) added to the system
    store, else the system store."""
    bundle = os.environ.get("ONEGRID_CA_BUNDLE")
    if bundle:
        return ssl.create_default_context(capath=bundle) if Path(bundle).is_dir() else \
            ssl.create_default_context(cafile=bundle)
    grid_dir = os.environ.get("X509_CERT_DIR")
    if grid_dir and Path(grid_dir).is_dir():
        ctx = ssl.create_default_context()
        ctx.load_verify_locations(capath=grid_dir)
        return ctx
    return True


def parent_urls(url: str) -> list[str]:
    """The directory URLs above `url`, outermost first: `…/a/`, `…/a/b/`."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return [urlunsplit((parts.scheme, parts.netloc, "/" + "/".join(segments[:i]) + "/", "", ""))
            for i in range(1, len(segments))]


class HttpStorage:
    """The `StorageClient` for http(s)/dav(s) URLs. `token`: the bearer token sent to the
    storage (a WLCG token with `storage.*` scopes, or none for anonymous access)."""

    def __init__(self, token: str | None = None, *, timeout: float = 300,
                 verify: bool | str | ssl.SSLContext | None = None, http: httpx.Client | None = None) -> None:
        self.token = token
        if verify is None:
            verify = default_verify()
        elif isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=30), verify=verify, limits=limits,
                                         headers={"User-Agent": "onegrid-storage-client"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HttpStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self, extra: Mapping[str, str] | None = None, token: str | None = None) -> dict[str, str]:
        tok = token or self.token
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        headers.update(extra or {})
        return headers

    def _request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, ok: Sequence[int] = (),
                 **kwargs: Any) -> httpx.Response:
        url = http_url(url)
        try:
            response = self.http.request(method, url, headers=self._headers(headers), **kwargs)
        except httpx.HTTPError as exc:
            raise network_error(exc, f"{method} {url}") from exc
        if response.status_code not in ok:
            raise_for(response, f"{method} {url}")
        return response

    # -- stat, list ----------------------------------------------------------------------

    def stat(self, url: str, *, checksums: bool = True, compute: bool = False,
             algorithms: Sequence[str] = ("adler32", "md5")) -> FileStat:
        headers = {"Want-Digest": want_digest(algorithms)} if checksums else {}
        r = self._request("HEAD", url, headers=headers, follow_redirects=True)
        sums = parse_digest(r.headers.get("Digest")) if checksums else {}
        if checksums and not sums:
            sums = parse_digest(r.headers.get("Repr-Digest"))
        size = int(r.headers.get("Content-Length") or 0)
        is_dir = r.headers.get("Content-Type", "").startswith("httpd/unix-directory") or url.endswith("/")
        if not r.headers.get("Content-Length") or is_dir:
            # Some servers give no length on HEAD of a collection: PROPFIND says what it is.
            with contextlib.suppress(OneGridError):
                entries = self._propfind(url, depth=0)
                if entries:
                    size, is_dir = entries[0].size, entries[0].is_dir
        mtime = _http_date(r.headers.get("Last-Modified"))
        if checksums and compute and not is_dir and not (set(algorithms) & sums.keys()):
            sums = {**self._read_checksums(url), **sums}
        return FileStat(url=url, size=size, is_dir=is_dir, checksums=sums, mtime=mtime)

    def exists(self, url: str) -> bool:
        try:
            self.stat(url, checksums=False)
        except NotFound:
            return False
        return True

    def _read_checksums(self, url: str) -> dict[str, str]:
        """GET the file and hash it: for storages that report no checksum (nginx)."""
        summer = Checksummer()
        for chunk in self._iter_get(url):
            summer.update(chunk)
        return summer.as_dict()

    def _iter_get(self, url: str, offset: int = 0) -> Iterator[bytes]:
        headers = self._headers({"Range": f"bytes={offset}-"} if offset else None)
        target = http_url(url)
        try:
            with self.http.stream("GET", target, headers=headers, follow_redirects=True) as r:
                raise_for(r, f"GET {target}")
                if offset and r.status_code != 206:
                    raise TransferFailed(f"GET {target}: server ignored Range", recoverable=True)
                yield from r.iter_raw(CHUNK) if _identity(r) else r.iter_bytes(CHUNK)
        except httpx.HTTPError as exc:
            raise network_error(exc, f"GET {target}") from exc

    def list(self, url: str) -> list[FileStat]:
        if not url.endswith("/"):
            url += "/"
        entries = self._propfind(url, depth=1)
        own = urlsplit(http_url(url)).path.rstrip("/")
        return [e for e in entries if urlsplit(e.url).path.rstrip("/") != own]

    def _propfind(self, url: str, depth: int) -> list[FileStat]:
        r = self._request("PROPFIND", url, headers={"Depth": str(depth), "Content-Type": "application/xml"},
                          content=PROPFIND_BODY, follow_redirects=True)
        return parse_multistatus(r.content, http_url(url))

    # -- get ------------------------------------------------------------------------------

    def get(self, url: str, dest: Path, *, progress: Progress | None = None, resume: bool = False) -> FileStat:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        summer = Checksummer()
        offset = 0
        if resume and part.exists():
            # Re-hash what is already here so the checksums cover the whole file.
            with part.open("rb") as f:
                while block := f.read(CHUNK):
                    summer.update(block)
            offset = summer.bytes
        try:
            with part.open("ab" if offset else "wb") as f:
                for chunk in self._iter_get(url, offset):
                    f.write(chunk)
                    summer.update(chunk)
                    if progress:
                        progress(summer.bytes)
            part.replace(dest)
        except BaseException:
            if not resume:
                part.unlink(missing_ok=True)
            raise
        return FileStat(url=url, size=summer.bytes, checksums=summer.as_dict())

    # -- put ------------------------------------------------------------------------------

    def put(self, source: Path, url: str, *, overwrite: bool = False, progress: Progress | None = None,
            verify: bool = True, expected: Mapping[str, str] | None = None) -> FileStat:
        size = source.stat().st_size
        if not overwrite and self.exists(url):
            raise AlreadyExists(f"PUT {http_url(url)}: the file already exists (overwrite not asked)")
        try:
            summer = self._put_stream(source, url, size, progress)
            problems = mismatches(expected or {}, summer.as_dict())
            if problems:
                raise ChecksumMismatch(f"{source}: changed while read ({'; '.join(problems)})", recoverable=False)
            if verify:
                self._verify(url, size, summer)
        except BaseException:
            # A partly written or wrong file must never stay behind to be registered.
            with contextlib.suppress(Exception):
                self.delete(url)
            raise
        return FileStat(url=url, size=size, checksums=summer.as_dict())

    def _put_stream(self, source: Path, url: str, size: int, progress: Progress | None) -> Checksummer:
        target = http_url(url)
        for attempt in range(MAX_REDIRECTS):
            summer = Checksummer()

            def body(s: Checksummer = summer) -> Iterator[bytes]:
                with source.open("rb") as f:
                    while block := f.read(CHUNK):
                        s.update(block)
                        if progress:
                            progress(s.bytes)
                        yield block

            headers = self._headers({"Content-Length": str(size), "Content-Type": "application/octet-stream"})
            try:
                r = self.http.request("PUT", target, headers=headers, content=body())
            except httpx.HTTPError as exc:
                raise network_error(exc, f"PUT {target}") from exc
            if r.status_code in (301, 302, 303, 307, 308) and "Location" in r.headers:
                target = urljoin(target, r.headers["Location"])  # e.g. dCache/EOS door → data server
                continue
            if r.status_code == 409 and attempt == 0:
                # Parent missing on a server that does not create it (RFC 4918 §9.7.1).
                self.mkdir(url.rsplit("/", 1)[0] + "/")
                continue
            raise_for(r, f"PUT {target}")
            return summer
        raise TransferFailed(f"PUT {http_url(url)}: too many redirects", recoverable=False)

    def _verify(self, url: str, size: int, summer: Checksummer) -> None:
        # adler32 only: storages keep it from the write (ours, dCache, xrootd), while md5
        # is often computed on demand by reading the whole file back.
        remote = self.stat(url, checksums=True, compute=True, algorithms=("adler32",))
        if remote.size != size:
            raise TransferFailed(f"PUT {http_url(url)}: storage has {remote.size} bytes, sent {size}")
        problems = mismatches(summer.as_dict(), remote.checksums)
        if problems:
            raise ChecksumMismatch(f"PUT {http_url(url)}: storage reports {'; '.join(problems)}")

    # -- delete, mkdir -------------------------------------------------------------------

    def delete(self, url: str, *, missing_ok: bool = True) -> bool:
        r = self._request("DELETE", url, ok=(404,) if missing_ok else (), follow_redirects=True)
        return r.status_code != 404

    def mkdir(self, url: str, *, parents: bool = True) -> None:
        if not url.endswith("/"):
            url += "/"
        chain = [*parent_urls(url), url] if parents else [url]
        for level in chain:
            # 405 = already exists (RFC 4918 §9.3.1); 301 = a server redirecting to the slash form.
            r = self._request("MKCOL", level, ok=(405, 301))
            if r.status_code == 405 and level == url and not self.stat(url, checksums=False).is_dir:
                raise Conflict(f"MKCOL {http_url(url)}: a file of that name exists")

    # -- third-party copy -----------------------------------------------------------------

    def third_party_copy(self, source_url: str, dest_url: str, *, mode: TpcMode = "pull",
                         source_token: str | None = None, dest_token: str | None = None,
                         on_marker: Callable[[PerfMarker], None] | None = None,
                         overwrite: bool = True, timeout: float | None = None,
                         measure: bool = True) -> TransferResult:
        return tpc.copy(self.http, source_url, dest_url, mode=mode, source_token=source_token or self.token,
                        dest_token=dest_token or self.token, on_marker=on_marker, overwrite=overwrite,
                        timeout=timeout, measure=measure)

    # -- Tape REST API --------------------------------------------------------------------

    def stage(self, urls: Sequence[str], *, disk_lifetime: int | None = None) -> str:
        return tape.TapeApi(self.http, self._headers()).stage(urls, disk_lifetime=disk_lifetime)

    def stage_status(self, request: str) -> StageStatus:
        return tape.TapeApi(self.http, self._headers()).stage_status(request)

    def cancel_stage(self, request: str, urls: Sequence[str] | None = None) -> None:
        tape.TapeApi(self.http, self._headers()).cancel(request, urls)

    def release(self, request: str, urls: Sequence[str]) -> None:
        tape.TapeApi(self.http, self._headers()).release(request, urls)

    def archive_info(self, urls: Sequence[str]) -> dict[str, Locality | str]:
        return tape.TapeApi(self.http, self._headers()).archive_info(urls)


def _identity(r: httpx.Response) -> bool:
    return r.headers.get("Content-Encoding", "identity") in ("", "identity")


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def parse_multistatus(body: bytes, base_url: str) -> list[FileStat]:
    """A WebDAV multistatus (RFC 4918 §14.16) → entries with absolute URLs."""
    try:
        root = ET.fromstring(body)  # ET expands no external entities
    except ET.ParseError as exc:
        raise error_for(httpx.Response(502, text=f"unparsable PROPFIND answer: {exc}"), f"PROPFIND {base_url}") from exc
    out = []
    for resp in root.iter(f"{DAV}response"):
        href = resp.findtext(f"{DAV}href") or ""
        props: dict[str, Any] = {}
        for propstat in resp.iter(f"{DAV}propstat"):
            if "200" not in (propstat.findtext(f"{DAV}status") or "200"):
                continue
            prop = propstat.find(f"{DAV}prop")
            if prop is None:
                continue
            rtype = prop.find(f"{DAV}resourcetype")
            if rtype is not None and rtype.find(f"{DAV}collection") is not None:
                props["is_dir"] = True
            if prop.findtext(f"{DAV}getcontentlength"):
                props["size"] = int(prop.findtext(f"{DAV}getcontentlength") or 0)
            props["mtime"] = _http_date(prop.findtext(f"{DAV}getlastmodified"))
        url = urljoin(base_url, href)
        out.append(FileStat(url=url, size=props.get("size", 0), is_dir=props.get("is_dir", False),
                            mtime=props.get("mtime")))
    return out


def name_of(stat: FileStat) -> str:
    """The last path segment of an entry, decoded."""
    return unquote(urlsplit(stat.url).path.rstrip("/").rsplit("/", 1)[-1])


__all__ = ["HttpStorage", "http_url", "name_of", "parse_multistatus"]
