//! Charts drawn on the server as SVG: no script, no library, readable without JavaScript. Each
//! chart is an image with a text alternative (its `<title>` and `<desc>`) and comes with the
//! same numbers as a table, folded under a "Table view" disclosure.

use maud::{Markup, PreEscaped, html};

/// One series of a stacked bar chart: its name and CSS class (its colour).
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
}

/// One bar: its axis label, and a value per series (in the chart's series order).
pub struct Bar {
    pub label: String,
    pub values: Vec<u64>,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 180;
const AXIS: u32 = 22;

/// A stacked bar chart of `bars`, with `description` as its text alternative, then a legend
/// and the table view. `id` names the chart for links and tests.
pub fn stacked_bars(
    id: &str,
    title: &str,
    description: &str,
    series: &[Series],
    bars: &[Bar],
) -> Markup {
    let highest = bars
        .iter()
        .map(|bar| bar.values.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = f64::from(WIDTH) / bars.len().max(1) as f64;
    let bar_width = (slot * 0.7).max(1.0);
    let plot = f64::from(HEIGHT - AXIS);
    let label_every = bars.len().div_ceil(8).max(1);
    let title_id = format!("{id}-title");
    let description_id = format!("{id}-description");
    let mut shapes = String::new();
    for (index, bar) in bars.iter().enumerate() {
        let x = index as f64 * slot + (slot - bar_width) / 2.0;
        let mut top = plot;
        let total: u64 = bar.values.iter().sum();
        let tooltip: Vec<String> = series
            .iter()
            .zip(&bar.values)
            .map(|(series, value)| format!("{} {value}", series.name))
            .collect();
        shapes.push_str(&format!(
            "<g><title>{}: {}</title>",
            escape(&bar.label),
            escape(&tooltip.join(", "))
        ));
        for (series, value) in series.iter().zip(&bar.values) {
            if *value == 0 {
                continue;
            }
            let height = plot * (*value as f64) / (highest as f64);
            top -= height;
            shapes.push_str(&format!(
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar_width:.1}\" height=\"{height:.1}\"/>",
                series.class
            ));
        }
        if total == 0 {
            shapes.push_str(&format!(
                "<rect class=\"empty\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_width:.1}\" height=\"1\"/>",
                plot - 1.0
            ));
        }
        shapes.push_str("</g>");
        if index % label_every == 0 {
            shapes.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + bar_width / 2.0,
                HEIGHT - 6,
                escape(&bar.label)
            ));
        }
    }
    shapes.push_str(&format!(
        "<text class=\"scale\" x=\"0\" y=\"12\">{highest}</text>"
    ));
    html! {
        figure.chart #(id) {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-labelledby={ (title_id) " " (description_id) } {
                title #(title_id) { (title) }
                desc #(description_id) { (description) }
                (PreEscaped(shapes))
            }
            figcaption {
                strong { (title) }
                ul.legend {
                    @for series in series {
                        li { span class={ "swatch " (series.class) } {} (series.name) }
                    }
                }
            }
            details {
                summary { "Table view" }
                (super::layout::table_wrap(html! {
                    table {
                        caption.muted { (title) }
                        thead { tr {
                            th scope="col" { "Period" }
                            @for series in series { th scope="col" { (series.name) } }
                        } }
                        tbody {
                            @for bar in bars {
                                tr {
                                    th scope="row" { (bar.label) }
                                    @for value in &bar.values { td { (value) } }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

/// Text for SVG written by hand: `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
