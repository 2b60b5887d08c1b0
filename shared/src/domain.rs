//! Domain vocabulary: typed ids and validated newtypes that the edges parse into, and how
//! a size reads for people.

pub mod ids;
pub mod media;
pub mod names;

pub use names::{ChannelName, ClientMsgId, CommunityName, DisplayName, Emoji, MessageBody, Slug, Username};

/// A byte count as people read it, the same in every client: `812 B`, `3.5 KiB`, `25.0 MiB`.
#[must_use]
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    #[expect(clippy::cast_precision_loss, reason = "one decimal of a size shown to people")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_in_binary_units_to_one_decimal() {
        let shown: Vec<String> = [0, 812, 1024, 3 * 1024 + 512, 25 * 1024 * 1024, 5 * 1024 * 1024 * 1024 * 1024]
            .into_iter()
            .map(human_size)
            .collect();
        assert_eq!(shown, ["0 B", "812 B", "1.0 KiB", "3.5 KiB", "25.0 MiB", "5120.0 GiB"]);
    }
}
