//! The playground page: GraphiQL and its panel for sandbox credentials,
//! built from pinned npm packages (`playground/`, see its README) and
//! embedded in the binary, precompressed, so the page needs no CDN and no
//! Node at run time.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served.
    pub url_path: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    /// Content-hashed name: cacheable for ever.
    pub immutable: bool,
    /// A strong ETag (of the uncompressed bytes).
    pub etag: &'static str,
    /// The bytes.
    pub identity: &'static [u8],
    /// Gzip (level 9).
    pub gzip: &'static [u8],
    /// Brotli (quality 11).
    pub br: &'static [u8],
}

/// Every file of the page, as `playground/build.mjs` wrote them.
pub static ASSETS: &[Asset] = include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/playground/dist/assets.rs"
));

/// The file served at `url_path`.
pub fn asset(url_path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.url_path == url_path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_and_its_assets_are_embedded() {
        let page = super::asset("/sandbox").expect("the page");
        let html = std::str::from_utf8(page.identity).expect("utf-8");
        assert!(!page.immutable);
        for a in super::ASSETS.iter().filter(|a| a.immutable) {
            assert!(
                html.contains(a.url_path)
                    || a.url_path.ends_with(".txt")
                    || a.url_path.ends_with(".svg"),
                "{} unreferenced",
                a.url_path
            );
            assert!(a.br.len() < a.identity.len() || a.identity.len() < 512);
        }
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no CDN"
        );
    }
}
