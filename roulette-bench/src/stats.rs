//! Figures: samples, medians and percentiles, and the interleaved runner.

use std::time::Duration;

/// The p-th percentile (0..=100) of `samples`, by nearest rank.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Median, min and max of repeated measurements.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`.
    pub fn of(values: &[f64]) -> Summary {
        Summary {
            median: percentile(values, 50.0),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One printed row.
pub struct Row {
    /// Workload and figure.
    pub name: String,
    /// Unit.
    pub unit: &'static str,
    /// Roulette's figures.
    pub roulette: Summary,
    /// The baseline's, when there is one.
    pub baseline: Option<(String, Summary)>,
    /// The goal, as text.
    pub goal: String,
    /// Whether the goal is met.
    pub met: Option<bool>,
}

/// Prints a row as a line of text.
pub fn print_row(row: &Row) {
    let s = &row.roulette;
    let mut line = format!(
        "{:<52} {:>10.3} {:<6} (min {:.3}, max {:.3})",
        row.name, s.median, row.unit, s.min, s.max
    );
    if let Some((name, b)) = &row.baseline {
        let ratio = s.median / b.median;
        line.push_str(&format!(
            " | {name}: {:.3} (min {:.3}, max {:.3}) ratio {:.2}",
            b.median, b.min, b.max, ratio
        ));
    }
    line.push_str(&format!(" | goal {}", row.goal));
    if let Some(met) = row.met {
        line.push_str(if met { " MET" } else { " NOT MET" });
    }
    println!("{line}");
}

/// Milliseconds, as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Microseconds, as f64.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

/// MB per second (10^6 bytes).
pub fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9)
}
