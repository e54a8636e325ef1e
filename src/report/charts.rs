//! The HTML report's charts over time, drawn with plotters' SVG backend: create requests per
//! second against the configured CPS, and queue_time. Each is an `<svg>` string to inline.
//! Text is laid out by the browser (`text-anchor`, the generic `sans-serif` family), so no font
//! is read or shipped; plotters' own estimate only sizes what we do not size ourselves.

use super::chart_data::Timeline;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

pub const WIDTH: u32 = 1080;
const HEIGHT: u32 = 360;

pub const BLUE: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
pub const LIGHT_BLUE: RGBColor = RGBColor(0x9E, 0xC5, 0xE6);
/// The configured CPS: the one red line of the report.
pub const CPS_RED: RGBColor = RGBColor(0xD6, 0x27, 0x28);
pub const INK: RGBColor = RGBColor(0x22, 0x2B, 0x36);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE7, 0xEC);
pub const MUTED: RGBColor = RGBColor(0x6B, 0x75, 0x80);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, thiserror::Error)]
#[error("could not draw the chart {chart:?}: {cause}")]
pub struct ChartError {
    pub chart: &'static str,
    cause: String,
}

/// An `<svg>` of `size` drawn by `draw`, without the XML namespace an inline SVG does not need.
pub fn svg(
    chart: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Drawn,
) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        drawn.map_err(|cause| ChartError {
            chart,
            cause: cause.to_string(),
        })?;
    }
    Ok(out.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1))
}

/// Text of `px` CSS pixels (plotters writes `font-size` as its size / 1.24).
pub fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Normal)
}

pub fn title(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Bold)
}

/// A chart with nothing to show yet says so where its plot would be.
pub fn note(area: &Area<'_>, text: &str) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let style = font(15.0)
        .color(&MUTED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        text.to_owned(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))?;
    Ok(())
}

pub fn requests_per_second(timeline: &Timeline, cps: u32) -> Result<String, ChartError> {
    const TITLE: &str = "Create requests per second";
    svg(TITLE, (WIDTH, HEIGHT), |root| {
        let Some((start, end)) = timeline.range() else {
            let area = caption(root, TITLE)?;
            return note(&area, "No request sent yet");
        };
        let peak = timeline.buckets.iter().map(|b| b.busiest_second).max();
        let y_max = (peak.unwrap_or(0).max(u64::from(cps)) as f64 * 1.3).ceil();
        let width = timeline.bucket_secs as f64;
        let mut chart = time_chart(root, TITLE, (start, end), y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(font(13.0).color(&INK))
            .axis_desc_style(font(14.0).color(&INK))
            .x_label_formatter(&|at| clock(*at, end - start))
            .y_label_formatter(&|n| format!("{n:.0}"))
            .x_desc("time (UTC)")
            .y_desc("requests per second")
            .draw()?;
        let gap = if timeline.buckets.len() <= 120 {
            0.12
        } else {
            0.0
        };
        let in_each = match timeline.bucket_secs {
            1 => String::new(),
            n => format!(", busiest second of each {n} s"),
        };
        let bar = |start_sec: i64, top: u64, color: RGBColor| {
            let x = start_sec as f64;
            let corners = [
                (x + width * gap, 0.0),
                (x + width * (1.0 - gap), top as f64),
            ];
            Rectangle::new(corners, color.filled())
        };
        let sent = timeline.buckets.iter().filter(|b| b.busiest_second > 0);
        chart
            .draw_series(sent.map(|b| bar(b.start_sec, b.busiest_second, LIGHT_BLUE)))?
            .label(format!("requests sent, refused ones too{in_each}"))
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], LIGHT_BLUE.filled()));
        let created = timeline
            .buckets
            .iter()
            .filter(|b| b.busiest_second_created > 0);
        chart
            .draw_series(created.map(|b| bar(b.start_sec, b.busiest_second_created, BLUE)))?
            .label(format!("requests that created a call{in_each}"))
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BLUE.filled()));
        if timeline.bucket_secs > 1 {
            let average = timeline.buckets.iter().map(|b| {
                let x = b.start_sec as f64 + width / 2.0;
                (x, b.created as f64 / width)
            });
            chart
                .draw_series(LineSeries::new(average, INK.stroke_width(1)))?
                .label("calls created per second, on average")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], INK.stroke_width(1)));
        }
        let cps_line = [(start as f64, f64::from(cps)), (end as f64, f64::from(cps))];
        chart
            .draw_series(LineSeries::new(cps_line, CPS_RED.stroke_width(2)))?
            .label(format!("CPS {cps} (configured)"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], CPS_RED.stroke_width(2)));
        legend(&mut chart)
    })
}

pub fn queue_time(timeline: &Timeline) -> Result<String, ChartError> {
    const TITLE: &str = "queue_time of the created calls (Twilio's wait before dialing)";
    svg(TITLE, (WIDTH, HEIGHT), |root| {
        let queued: Vec<_> = timeline
            .buckets
            .iter()
            .filter(|b| b.queued_calls > 0)
            .collect();
        let (Some((start, end)), false) = (timeline.range(), queued.is_empty()) else {
            let area = caption(root, TITLE)?;
            return note(&area, "No created call reported a queue_time yet");
        };
        let longest = queued.iter().filter_map(|b| b.queue_time_max_ms).max();
        let y_max = (longest.unwrap_or(0).max(100) as f64 * 1.2).ceil();
        let mut chart = time_chart(root, TITLE, (start, end), y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style(font(13.0).color(&INK))
            .axis_desc_style(font(14.0).color(&INK))
            .x_label_formatter(&|at| clock(*at, end - start))
            .y_label_formatter(&|ms| format!("{ms:.0}"))
            .x_desc("time (UTC)")
            .y_desc("queue_time (ms)")
            .draw()?;
        let middle = |b: &crate::store::RequestBucket| {
            b.start_sec as f64 + timeline.bucket_secs as f64 / 2.0
        };
        let longest = queued
            .iter()
            .filter_map(|b| Some((middle(b), b.queue_time_max_ms? as f64)));
        let average = queued
            .iter()
            .filter_map(|b| Some((middle(b), b.queue_time_avg_ms?)));
        let per = match timeline.bucket_secs {
            1 => "each second".to_owned(),
            n => format!("each {n} s"),
        };
        let dots = queued.len() <= 120;
        chart
            .draw_series(LineSeries::new(longest, LIGHT_BLUE.stroke_width(2)))?
            .label(format!("longest in {per}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIGHT_BLUE.stroke_width(2)));
        chart
            .draw_series(
                LineSeries::new(average, BLUE.stroke_width(2)).point_size(if dots { 3 } else { 0 }),
            )?
            .label(format!("average in {per}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE.stroke_width(2)));
        legend(&mut chart)
    })
}

/// A linear axis ticked where we say (plotters' own `with_key_points` loses its labels'
/// formatter on an `f64` axis).
pub struct Ticked {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { range, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value - self.range.start) / (self.range.end - self.range.start);
        limit.0 + (f64::from(limit.1 - limit.0) * share + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight().allow_light_points() {
            true => Vec::new(),
            false => self.ticks.clone(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

type TimeChart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<Ticked, RangedCoordf64>>;

/// A chart whose x axis is time (unix seconds), ticked on round clock times.
fn time_chart<'a>(
    root: &Area<'a>,
    title_text: &str,
    (start, end): (i64, i64),
    y_max: f64,
) -> Result<TimeChart<'a>, Box<dyn std::error::Error>> {
    let x = Ticked::new(start as f64..end as f64, time_ticks(start, end));
    Ok(ChartBuilder::on(root)
        .caption(title_text, title(18.0).color(&INK))
        .margin(18)
        .margin_right(40)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(x, 0.0..y_max.max(1.0))?)
}

/// The title alone, over an area left for a note.
fn caption<'a>(root: &Area<'a>, title_text: &str) -> Result<Area<'a>, Box<dyn std::error::Error>> {
    Ok(root.titled(title_text, title(18.0).color(&INK))?)
}

pub fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font(font(13.0).color(&INK))
        .draw()?;
    Ok(())
}

/// Tick marks on round clock times, about six over the span.
pub fn time_ticks(start: i64, end: i64) -> Vec<f64> {
    const STEPS: [i64; 18] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400,
    ];
    let span = (end - start).max(1);
    let step = STEPS
        .into_iter()
        .find(|step| span / step <= 7)
        .unwrap_or_else(|| (span / 7 / 86_400 + 1) * 86_400);
    let first = (start + step - 1).div_euclid(step) * step;
    (0..)
        .map(|k| first + k * step)
        .take_while(|at| *at <= end)
        .map(|at| at as f64)
        .collect()
}

/// A tick's label: the time of day, with the date once the span is a day or more.
pub fn clock(at: f64, span_secs: i64) -> String {
    let Ok(at) = jiff::Timestamp::from_second(at.round() as i64) else {
        return String::new();
    };
    // Under 7 minutes, ticks are less than a minute apart (see `time_ticks`).
    let format = if span_secs < 420 {
        "%H:%M:%S"
    } else if span_secs < 86_400 {
        "%H:%M"
    } else {
        "%b %d %H:%M"
    };
    at.strftime(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_round_clock_times() {
        // 2030-01-14T08:00:07Z for 3 s, 40 min, and 3 days.
        let start = 1_894_608_007;

        assert_eq!(
            time_ticks(start, start + 3),
            [
                start as f64,
                (start + 1) as f64,
                (start + 2) as f64,
                (start + 3) as f64
            ]
        );
        let minutes = time_ticks(start, start + 2_400);
        assert_eq!(minutes.len(), 4);
        assert_eq!(clock(minutes[0], 2_400), "08:10");
        let days = time_ticks(start, start + 3 * 86_400);
        assert_eq!(clock(days[0], 3 * 86_400), "Jan 14 12:00");
    }
}
