//! What a cooperative's dashboard shows at a glance: certificates running out, scans of its
//! labels over the last 30 days (a small chart drawn here as SVG, no script), and what
//! shoppers reported about its labels.

use chrono::{Duration, NaiveDate};

use crate::domain::certification::Certification;
use crate::domain::organization::Organization;
use crate::domain::scan::Report;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::error::PageError;

/// Days ahead a certificate's end is shown.
pub const EXPIRING_DAYS: i64 = 60;
/// Days of scans charted.
pub const SCAN_DAYS: i64 = 30;
/// Reports shown.
const REPORTS_SHOWN: usize = 10;

pub struct Overview {
    /// Certificates whose validity ends within `EXPIRING_DAYS`, soonest first, with their
    /// holder's name and days left.
    pub expiring: Vec<(Certification, String, i64)>,
    /// Scans a day, oldest first, every day of the period.
    pub scans: Vec<(NaiveDate, i64)>,
    pub scans_total: i64,
    /// The newest reports about the producers' products, with the product's name.
    pub reports: Vec<(Report, String)>,
}

pub async fn overview(s: &AppState, producers: &[&Organization]) -> Result<Overview, PageError> {
    let now = s.clock.now();
    let today = now.date_naive();
    let mut expiring = Vec::new();
    let mut by_day = std::collections::HashMap::<String, i64>::new();
    let mut names = std::collections::HashMap::new();
    for org in producers {
        for cert in s.store.certifications_of(org.id).await? {
            let left = (cert.data.valid_until - today).num_days();
            if (0..=EXPIRING_DAYS).contains(&left) {
                expiring.push((cert, org.data.name.clone(), left));
            }
        }
        for (day, count) in s
            .store
            .daily_scans(org.id, now - Duration::days(SCAN_DAYS))
            .await?
        {
            *by_day.entry(day).or_default() += count;
        }
        for p in s.store.products_of(org.id).await? {
            names.insert(p.id, p.data.name);
        }
    }
    expiring.sort_by_key(|(_, _, left)| *left);
    // Days in Vietnam, as the store counts them.
    let local_today = (now + Duration::hours(7)).date_naive();
    let scans: Vec<(NaiveDate, i64)> = (0..SCAN_DAYS)
        .rev()
        .map(|back| {
            let day = local_today - Duration::days(back);
            let count = by_day.get(&day.format("%Y-%m-%d").to_string()).copied();
            (day, count.unwrap_or(0))
        })
        .collect();
    let scans_total = scans.iter().map(|(_, n)| n).sum();
    let q = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let reports = s
        .store
        .list_reports(&q, None)
        .await?
        .into_iter()
        .filter_map(|r| {
            let name = names.get(&r.product_id?)?.clone();
            Some((r, name))
        })
        .take(REPORTS_SHOWN)
        .collect();
    Ok(Overview {
        expiring,
        scans,
        scans_total,
        reports,
    })
}

/// The scans as a bar chart: one bar a day, each with its date and count as a tooltip. Only
/// numbers and dates go in, so the markup is safe to put in the page as it is.
pub fn scans_chart(scans: &[(NaiveDate, i64)], label: &str) -> String {
    const WIDTH: usize = 300;
    const HEIGHT: i64 = 80;
    let most = scans.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bar = WIDTH / scans.len().max(1);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
        HEIGHT + 2,
        askama_escape(label)
    );
    for (i, (day, n)) in scans.iter().enumerate() {
        let h = (n * HEIGHT / most).max(if *n > 0 { 2 } else { 0 });
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"><title>{}: {n}</title></rect>",
            i * bar,
            HEIGHT - h,
            bar.saturating_sub(2).max(1),
            day.format("%d/%m")
        ));
    }
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{HEIGHT}\" x2=\"{WIDTH}\" y2=\"{HEIGHT}\" stroke=\"currentColor\"/></svg>"
    ));
    svg
}

/// Escapes text for an attribute (the label is ours, but stays escaped all the same).
fn askama_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_a_day_scaled_to_the_busiest() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let scans = vec![
            (day, 0),
            (day + Duration::days(1), 5),
            (day + Duration::days(2), 10),
        ];
        let svg = scans_chart(&scans, "Lượt quét \"30 ngày\"");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("height=\"80\"><title>03/12: 10</title>"));
        assert!(svg.contains("height=\"40\"><title>02/12: 5</title>"));
        assert!(svg.contains("aria-label=\"Lượt quét &quot;30 ngày&quot;\""));
    }
}
