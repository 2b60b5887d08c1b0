//! The report: one row per figure, with its in-run ceiling, the ratio to it and the target;
//! printed as a table and written as JSON.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// One figure of a scenario.
#[derive(Clone, Debug)]
pub struct Row {
    pub scenario: String,
    pub metric: String,
    pub unit: &'static str,
    pub ours: Option<f64>,
    /// The same figure of the ceiling (Nchan, raw NATS, bare SQL, the direct api).
    pub ceiling: Option<f64>,
    pub target: String,
}

impl Row {
    /// ours / ceiling, when both are there and the ceiling is not zero.
    #[must_use]
    pub fn ratio(&self) -> Option<f64> {
        match (self.ours, self.ceiling) {
            (Some(ours), Some(ceiling)) if ceiling.abs() > f64::EPSILON => Some(ours / ceiling),
            _ => None,
        }
    }
}

/// Every row of a run, and notes (how a scenario was run, what it skipped).
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn row(
        &mut self,
        scenario: &str,
        metric: &str,
        unit: &'static str,
        ours: Option<f64>,
        ceiling: Option<f64>,
        target: &str,
    ) {
        let row = Row {
            scenario: scenario.to_owned(),
            metric: metric.to_owned(),
            unit,
            ours,
            ceiling,
            target: target.to_owned(),
        };
        println!("  {}", line(&row));
        self.rows.push(row);
    }

    pub fn note(&mut self, note: String) {
        println!("  note: {note}");
        self.notes.push(note);
    }

    /// The table, one line per row.
    #[must_use]
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:<40} {:>12} {:>12} {:>8}  {}\n",
            "scenario", "metric", "ajet", "ceiling", "ratio", "target"
        );
        for row in &self.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        out
    }

    /// The table as Markdown (for BENCHMARKS.md).
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out =
            String::from("| scenario | metric | ajet | ceiling | ratio | target |\n|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.scenario,
                row.metric,
                figure(row.ours, row.unit),
                figure(row.ceiling, row.unit),
                row.ratio().map_or_else(String::new, |r| format!("{r:.2}×")),
                row.target
            );
        }
        out
    }

    #[must_use]
    pub fn json(&self) -> Value {
        json!({
            "rows": self.rows.iter().map(|row| json!({
                "scenario": row.scenario,
                "metric": row.metric,
                "unit": row.unit,
                "ajet": row.ours,
                "ceiling": row.ceiling,
                "ratio": row.ratio(),
                "target": row.target,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

fn figure(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) if v.abs() >= 100.0 || v.fract().abs() < f64::EPSILON => format!("{v:.0} {unit}"),
        Some(v) => format!("{v:.2} {unit}"),
    }
}

fn line(row: &Row) -> String {
    format!(
        "{:<12} {:<40} {:>12} {:>12} {:>8}  {}",
        row.scenario,
        row.metric,
        figure(row.ours, row.unit),
        figure(row.ceiling, row.unit),
        row.ratio().map_or_else(String::new, |r| format!("{r:.2}×")),
        row.target
    )
}
