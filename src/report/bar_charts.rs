//! The HTML report's horizontal bar charts: how the calls ended, and Twilio's errors by code.

use super::calls::who_answered_is_known;
use super::plot::{
    CPS_RED, ChartError, INK, Key, Mark, Ticked, WIDTH, empty, font, house_mesh, legend_height,
    svg, thousands, titled,
};
use crate::store::{CallOutcomes, RequestErrors};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const GREEN: RGBColor = RGBColor(0x2C, 0xA0, 0x2C);
const ORANGE: RGBColor = RGBColor(0xFF, 0x7F, 0x0E);
const OCHRE: RGBColor = RGBColor(0xC9, 0xA2, 0x27);
const GREY: RGBColor = RGBColor(0x9A, 0xA1, 0xA9);
const TEAL: RGBColor = RGBColor(0x17, 0x9C, 0xB0);
const PURPLE: RGBColor = RGBColor(0x94, 0x67, 0xBD);
/// Requests that never reached Twilio: an outage, not a refusal.
const BROWN: RGBColor = RGBColor(0x8C, 0x56, 0x4B);

/// At most this many error codes get a bar of their own; the rest share one.
const MAX_CODES: usize = 12;

/// Rows of horizontal bars, each bar one or more stacked segments.
struct Bars {
    title: &'static str,
    x_desc: &'static str,
    labels: Vec<String>,
    segments: Vec<Segment>,
    /// Written at the end of each bar.
    notes: Vec<String>,
    /// Said instead of the bars when every value is 0.
    empty: &'static str,
}

struct Segment {
    /// Its legend entry; `None` when the axis labels say it all.
    name: Option<&'static str>,
    /// One colour, or one per row.
    colors: Vec<RGBColor>,
    values: Vec<u64>,
}

pub fn outcome_mix(calls: &CallOutcomes) -> Result<String, ChartError> {
    let mut rows = vec![
        ("completed", calls.completed, GREEN),
        ("busy", calls.busy, ORANGE),
        ("no-answer", calls.no_answer, OCHRE),
        ("failed", calls.failed, CPS_RED),
        ("canceled", calls.canceled, GREY),
    ];
    if who_answered_is_known(calls) {
        rows.extend([
            ("answered by a person", calls.answered_by_human, TEAL),
            ("answered by a machine", calls.answered_by_machine, PURPLE),
        ]);
    }
    let ended = calls.completed + calls.busy + calls.no_answer + calls.failed + calls.canceled;
    let notes = rows
        .iter()
        .enumerate()
        .map(|(i, (_, n, _))| match i {
            ..5 => share(*n, ended, "of ended calls"),
            _ => share(*n, calls.completed, "of answered calls"),
        })
        .collect();
    draw_bars(Bars {
        title: "How the calls ended",
        x_desc: "calls",
        labels: rows.iter().map(|(label, ..)| (*label).to_owned()).collect(),
        notes,
        segments: vec![Segment {
            name: None,
            colors: rows.iter().map(|(.., color)| *color).collect(),
            values: rows.iter().map(|(_, n, _)| *n).collect(),
        }],
        empty: "No call has ended yet",
    })
}

pub fn errors_by_code(errors: &[RequestErrors]) -> Result<String, ChartError> {
    let mut rows: Vec<(String, [u64; 4])> = errors
        .iter()
        .take(MAX_CODES)
        .map(|e| (error_label(e), columns(e)))
        .collect();
    if errors.len() > MAX_CODES {
        let mut others = [0; 4];
        for e in &errors[MAX_CODES..] {
            for (sum, n) in others.iter_mut().zip(columns(e)) {
                *sum += n;
            }
        }
        rows.push((format!("{} other codes", errors.len() - MAX_CODES), others));
    }
    let column = |i: usize| rows.iter().map(|(_, n)| n[i]).collect::<Vec<_>>();
    draw_bars(Bars {
        title: "Create requests Twilio refused or did not answer, by error code",
        x_desc: "create requests",
        labels: rows.iter().map(|(label, _)| label.clone()).collect(),
        notes: rows
            .iter()
            .map(|(_, n)| thousands(n.iter().sum::<u64>()))
            .collect(),
        segments: vec![
            segment("not processed, sent again", ORANGE, column(0)),
            segment("refused: the row failed", CPS_RED, column(1)),
            segment("could not reach Twilio: the row failed", BROWN, column(2)),
            segment("no answer: checked with Twilio", GREY, column(3)),
        ],
        empty: "No create request was refused or went unanswered",
    })
}

/// Sent again, refused, given up unreached, in doubt. A request that failed without a Twilio
/// code got no answer from Twilio: its row was given up after its attempts, as when Twilio
/// could not be reached, which is an outage and not a refusal of the row.
fn columns(e: &RequestErrors) -> [u64; 4] {
    match e.code {
        Some(_) => [e.retried, e.failed, 0, e.in_doubt],
        None => [e.retried, 0, e.failed, e.in_doubt],
    }
}

fn segment(name: &'static str, color: RGBColor, values: Vec<u64>) -> Segment {
    Segment {
        name: Some(name),
        colors: vec![color],
        values,
    }
}

/// `20429 Too Many Requests (HTTP 429)`, cut to fit beside the bars. Stored messages name
/// their code already (`error 20429: …`, `gave up after 3 attempts: error 21211: …`).
fn error_label(errors: &RequestErrors) -> String {
    let label = match errors.code {
        Some(code) => {
            let named = format!("error {code}: ");
            let message = match errors.message.find(&named) {
                Some(at) => &errors.message[at + named.len()..],
                None => &errors.message,
            };
            format!("{code} {message}")
        }
        // `no answer from Twilio within 15s; the request may have been processed`
        None => match errors.message.split_once(';') {
            Some((what, _)) => what.to_owned(),
            None => errors.message.clone(),
        },
    };
    match label.char_indices().nth(48) {
        Some((end, _)) => format!("{}…", label[..end].trim_end()),
        None => label,
    }
}

/// `26 (90% of answered calls)`.
fn share(n: u64, of: u64, what: &str) -> String {
    match (n, of) {
        (0, _) | (_, 0) => thousands(n),
        _ => format!(
            "{} ({:.0}% {what})",
            thousands(n),
            n as f64 * 100.0 / of as f64
        ),
    }
}

fn draw_bars(bars: Bars) -> Result<String, ChartError> {
    let n = bars.labels.len();
    let keys: Vec<Key> = bars
        .segments
        .iter()
        .filter(|s| s.values.iter().any(|n| *n > 0))
        .filter_map(|s| Some(Key::new(s.name?, Mark::Bar(s.colors[0]))))
        .collect();
    let height = 110 + 34 * n as u32 + legend_height(&keys);
    let longest = bars
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let label_area = (24.0 + 7.6 * longest as f64) as u32;
    let totals: Vec<u64> = (0..n)
        .map(|row| bars.segments.iter().map(|s| s.values[row]).sum())
        .collect();
    let most = totals.iter().copied().max().unwrap_or(0);
    if most == 0 {
        return empty(bars.title, bars.empty);
    }
    svg(bars.title, (WIDTH, height), |root| {
        // Row i's band is [n - i - 1, n - i): the first row on top.
        let centers: Vec<f64> = (0..n).map(|i| (n - i) as f64 - 0.5).collect();
        // Room on the right for the notes.
        let x_max = most as f64 * 1.35;
        let plot = titled(root, bars.title, &keys)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0.0..x_max, Ticked::new(0.0..n as f64, centers))?;
        let row_of = |y: f64| n.checked_sub(y.floor() as usize + 1);
        house_mesh(&mut chart)
            .disable_y_mesh()
            .x_labels(6)
            .x_label_formatter(&|x| thousands(x.round() as u64))
            .y_label_formatter(&|y| {
                row_of(*y)
                    .map(|i| bars.labels[i].clone())
                    .unwrap_or_default()
            })
            .x_desc(bars.x_desc)
            .draw()?;
        let mut starts = vec![0u64; n];
        for segment in &bars.segments {
            let rectangles: Vec<_> = (0..n)
                .filter(|row| segment.values[*row] > 0)
                .map(|row| {
                    let y = (n - row - 1) as f64;
                    let from = starts[row] as f64;
                    let to = from + segment.values[row] as f64;
                    let color = segment.colors[row % segment.colors.len()];
                    Rectangle::new([(from, y + 0.2), (to, y + 0.8)], color.filled())
                })
                .collect();
            for (start, value) in starts.iter_mut().zip(&segment.values) {
                *start += value;
            }
            chart.draw_series(rectangles)?;
        }
        let note_style = font(13.0)
            .color(&INK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series((0..n).map(|row| {
            let at = (
                totals[row] as f64 + most as f64 * 0.01,
                (n - row) as f64 - 0.5,
            );
            Text::new(bars.notes[row].clone(), at, note_style.clone())
        }))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_labelled_by_its_code_and_message_cut_to_fit() {
        let errors = |code, message: &str| RequestErrors {
            code,
            message: message.into(),
            retried: 1,
            failed: 0,
            in_doubt: 0,
        };

        assert_eq!(
            error_label(&errors(
                Some(20429),
                "error 20429: Too Many Requests (HTTP 429)"
            )),
            "20429 Too Many Requests (HTTP 429)"
        );
        assert_eq!(
            error_label(&errors(Some(21211), "Invalid")),
            "21211 Invalid"
        );
        let lost = "connection lost after the request was sent; it may have been processed";
        assert_eq!(
            error_label(&errors(None, lost)),
            "connection lost after the request was sent"
        );
        let long = error_label(&errors(
            Some(21211),
            &"Invalid 'To' Phone Number ".repeat(3),
        ));
        assert!(long.ends_with('…') && long.chars().count() <= 49, "{long}");
    }

    #[test]
    fn who_answered_is_drawn_only_when_a_call_says_it() {
        let without_detection = CallOutcomes {
            completed: 3,
            busy: 1,
            ..CallOutcomes::default()
        };
        let with_detection = CallOutcomes {
            answered_by_machine: 1,
            ..without_detection.clone()
        };

        let without = outcome_mix(&without_detection).unwrap();
        let with = outcome_mix(&with_detection).unwrap();

        assert!(!without.contains("answered by a person"), "{without}");
        assert!(with.contains("answered by a person"), "{with}");
        assert!(with.contains("answered by a machine"), "{with}");
    }

    #[test]
    fn requests_that_never_reached_twilio_are_coloured_apart_from_refusals() {
        let errors = |code, message: &str| RequestErrors {
            code,
            message: message.into(),
            retried: 2,
            failed: 1,
            in_doubt: 0,
        };
        let unreached = errors(None, "could not reach Twilio at http://127.0.0.1:9");
        let refused = errors(Some(21211), "error 21211: Invalid 'To' Phone Number");

        let outage = errors_by_code(std::slice::from_ref(&unreached)).unwrap();
        let refusal = errors_by_code(std::slice::from_ref(&refused)).unwrap();

        // (The SVG backend puts each text on lines of its own.)
        let outage = outage.replace('\n', "");

        let fill =
            |color: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", color.0, color.1, color.2);
        assert!(
            outage.contains(&fill(BROWN)) && !outage.contains(&fill(CPS_RED)),
            "{outage}"
        );
        assert!(
            outage.contains(">could not reach Twilio: the row failed<"),
            "{outage}"
        );
        assert!(!outage.contains(">refused: the row failed<"), "{outage}");
        assert!(
            refusal.contains(&fill(CPS_RED)) && !refusal.contains(&fill(BROWN)),
            "{refusal}"
        );
    }

    #[test]
    fn twilio_s_words_are_escaped_in_the_chart() {
        let errors = [RequestErrors {
            code: Some(21211),
            message: "error 21211: <script>alert('x')</script> & more".into(),
            retried: 0,
            failed: 2,
            in_doubt: 0,
        }];

        let svg = errors_by_code(&errors).unwrap();

        assert!(
            svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; more"),
            "{svg}"
        );
        assert!(!svg.contains("<script"));
    }
}
