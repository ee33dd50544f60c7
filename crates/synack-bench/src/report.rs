//! The table a comparison prints: Markdown, so BENCHMARKS.md can hold it
//! as printed.

use std::fmt::Write;

/// A Markdown table.
#[derive(Clone, Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let line = |o: &mut String, cells: &[String]| {
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        };
        line(&mut o, &self.header);
        let rule: Vec<String> = self.header.iter().map(|_| "---".to_string()).collect();
        line(&mut o, &rule);
        for r in &self.rows {
            line(&mut o, r);
        }
        o
    }
}

/// `a ÷ b` as a ratio, e.g. `2.13×`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "—".to_string()
    }
}

/// A rate with three significant digits and its unit.
pub fn figure(value: f64, unit: &str) -> String {
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_prints_as_markdown() {
        let mut t = Table::new(&["case", "synack"]);
        t.row(vec!["bulk".into(), figure(12.345, "Gbit/s")]);
        assert_eq!(
            t.markdown(),
            "| case | synack |\n| --- | --- |\n| bulk | 12.3 Gbit/s |\n"
        );
        assert_eq!(ratio(3.0, 1.5), "2.00×");
        assert_eq!(ratio(1.0, 0.0), "—");
        assert_eq!(figure(1234.0, "conn/s"), "1234 conn/s");
        assert_eq!(figure(1.5, "x"), "1.50 x");
    }
}
