//! How durations and sizes read in ctlinit's log lines.

use std::time::Duration;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// `250ms`, `5s`, `1m 30s`: humantime's spelling (which the options accept
/// too), to the millisecond; below one, to the microsecond.
pub fn duration(d: Duration) -> String {
    let shown = if d >= Duration::from_millis(1) {
        Duration::from_millis(d.as_millis().min(u64::MAX as u128) as u64)
    } else {
        Duration::from_micros(d.as_micros() as u64)
    };
    humantime::format_duration(shown).to_string()
}

/// "64 MiB" for exact MiB multiples, "1.5 GiB" for exact quarter GiBs,
/// "123456 bytes" otherwise; "none" for None.
pub fn limit(limit: Option<u64>) -> String {
    let Some(bytes) = limit else {
        return "none".to_string();
    };
    if bytes == 0 || bytes % MIB != 0 {
        return format!("{bytes} bytes");
    }
    if bytes >= GIB && bytes % (GIB / 4) == 0 {
        // Quarters keep the decimal exact: a limit should never be rounded.
        let frac = match (bytes % GIB) / (GIB / 4) {
            1 => ".25",
            2 => ".5",
            3 => ".75",
            _ => "",
        };
        return format!("{}{frac} GiB", bytes / GIB);
    }
    format!("{} MiB", bytes / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_to_the_millisecond() {
        assert_eq!(duration(Duration::from_nanos(91_872_178)), "91ms");
        assert_eq!(duration(Duration::from_millis(1500)), "1s 500ms");
        assert_eq!(duration(Duration::from_nanos(1500)), "1us");
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(
            duration(Duration::from_secs(365 * 86400)),
            "11months 30days 3h 50m 24s"
        );
    }

    #[test]
    fn formatted_limits() {
        assert_eq!(limit(None), "none");
        assert_eq!(limit(Some(64 * MIB)), "64 MiB");
        assert_eq!(limit(Some(1000 * MIB)), "1000 MiB");
        assert_eq!(limit(Some(GIB)), "1 GiB");
        assert_eq!(limit(Some(3 * GIB / 2)), "1.5 GiB");
        assert_eq!(limit(Some(GIB + GIB / 4)), "1.25 GiB");
        assert_eq!(limit(Some(2 * GIB + 3 * GIB / 4)), "2.75 GiB");
        assert_eq!(limit(Some(1030 * MIB)), "1030 MiB");
        assert_eq!(limit(Some(GIB / 2)), "512 MiB");
        assert_eq!(limit(Some(123456)), "123456 bytes");
        assert_eq!(limit(Some(99999744)), "99999744 bytes");
        assert_eq!(limit(Some(0)), "0 bytes");
        assert_eq!(limit(Some(u64::MAX)), format!("{} bytes", u64::MAX));
    }
}
