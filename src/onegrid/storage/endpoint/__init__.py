"""The OneGrid storage endpoint: a folder served over HTTP/WebDAV with WLCG tokens,
checksums, third-party copy and storage resource reporting (`onegrid storage`)."""
