//! What an uploaded file is, told by its first bytes and never by what the client said,
//! and what an avatar may be: one answer for the API that stores files and the CLI that
//! checks them before sending.

/// The largest avatar accepted (`PUT /api/me/avatar`, `PUT /api/webhooks/{id}/avatar`).
pub const AVATAR_MAX_BYTES: usize = 1024 * 1024;

/// Whether a sniffed type may be an avatar: a raster image, which runs nothing.
#[must_use]
pub fn is_avatar_type(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

/// The type of a file from its first bytes; never what the client said.
#[must_use]
pub fn sniff(head: &[u8]) -> &'static str {
    const TABLE: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
    ];
    if let Some((_, kind)) = TABLE.iter().find(|(magic, _)| head.starts_with(magic)) {
        return kind;
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return "image/webp";
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(text.len());
    let lower = text[start..text.len().min(start + 1024)].to_ascii_lowercase();
    if lower.starts_with(b"<svg") || (lower.starts_with(b"<?xml") && lower.windows(4).any(|w| w == b"<svg")) {
        return "image/svg+xml";
    }
    if [&b"<!doctype html"[..], b"<html", b"<head", b"<body", b"<script", b"<iframe"]
        .iter()
        .any(|tag| lower.starts_with(tag))
    {
        return "text/html";
    }
    if lower.starts_with(b"<?xml") {
        return "application/xml";
    }
    let valid = match std::str::from_utf8(text) {
        Ok(_) => true,
        // A character cut at the end of the sniffed window is still text.
        Err(err) => err.error_len().is_none(),
    };
    if valid && !text.contains(&0) { "text/plain" } else { "application/octet-stream" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reads_the_bytes_and_never_calls_markup_an_image() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), "image/png");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"  <!DOCTYPE html><script>"), "text/html");
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"\">"), "image/svg+xml");
        assert_eq!(sniff(b"<svg onload=alert(1)>"), "image/svg+xml");
        assert_eq!(sniff("plain text \u{e9}".as_bytes()), "text/plain");
        assert_eq!(sniff(b"\0\x01\x02"), "application/octet-stream");
    }

    #[test]
    fn only_raster_images_may_be_avatars() {
        assert!(is_avatar_type(sniff(b"GIF89a\x01\0")));
        assert!(!is_avatar_type(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>")));
        assert!(!is_avatar_type(sniff(b"RIFF\x10\0\0\0WAVEfmt ")));
        assert!(!is_avatar_type(sniff(b"")));
    }
}
