//! The HTML report's charts of time: create requests per second against the configured CPS,
//! queue_time over the run, and the answer rate by the callee's hour of the day. Each is an
//! `<svg>` string to inline.

use super::chart_data::LocalHours;
use super::plot::{
    Area, BLUE, CPS_RED, ChartError, Drawn, INK, Key, LIGHT_BLUE, MUTED, Mark, Ticked, WIDTH,
    empty, font, house_mesh, legend_height, svg, thousands, titled,
};
use super::time_axis::{TimeAxis, idle_text};
use super::timeline::Timeline;
use crate::store::RequestBucket;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const HEIGHT: u32 = 360;
const DARK_BLUE: RGBColor = RGBColor(0x0B, 0x3C, 0x6B);
/// An idle gap cut out of a time axis.
const BREAK_GREY: RGBColor = RGBColor(0xEE, 0xF0, 0xF3);

pub fn requests_per_second(timeline: &Timeline, cps: u32) -> Result<String, ChartError> {
    const TITLE: &str = "Create requests per second";
    let Some(axis) = TimeAxis::new(&timeline.spans()) else {
        return empty(TITLE, "No request sent yet");
    };
    let in_each = match timeline.bucket_secs {
        1 => String::new(),
        n => format!(", busiest second of each {n} s"),
    };
    let mut keys = vec![
        Key::new(
            format!("requests sent, refused ones too{in_each}"),
            Mark::Bar(LIGHT_BLUE),
        ),
        Key::new(
            format!("requests that created a call{in_each}"),
            Mark::Bar(BLUE),
        ),
    ];
    if timeline.bucket_secs > 1 {
        keys.push(Key::new(
            "calls created per second, on average",
            Mark::Line(INK, 1),
        ));
    }
    keys.push(Key::new(
        format!("CPS {cps} (configured)"),
        Mark::Line(CPS_RED, 2),
    ));
    svg(TITLE, (WIDTH, HEIGHT + legend_height(&keys)), |root| {
        let peak = timeline.buckets().map(|b| b.busiest_second).max();
        let y_max = (peak.unwrap_or(0).max(u64::from(cps)) as f64 * 1.15).ceil();
        let width = timeline.bucket_secs as f64;
        let plot = titled(root, TITLE, &keys)?;
        let mut chart = time_chart(&plot, &axis, y_max)?;
        house_mesh(&mut chart)
            .disable_x_mesh()
            .x_label_formatter(&|at| axis.label(*at))
            .y_label_formatter(&|n| format!("{n:.0}"))
            .x_desc(axis.description())
            .y_desc("requests per second")
            .draw()?;
        draw_breaks(&mut chart, &axis, y_max)?;
        let gap = if timeline.buckets().count() <= 120 {
            0.12
        } else {
            0.0
        };
        let bar = |start_sec: i64, top: u64, color: RGBColor| {
            let x = axis.x(start_sec as f64);
            let corners = [
                (x + width * gap, 0.0),
                (x + width * (1.0 - gap), top as f64),
            ];
            Rectangle::new(corners, color.filled())
        };
        let sent = timeline.buckets().filter(|b| b.busiest_second > 0);
        chart.draw_series(sent.map(|b| bar(b.start_sec, b.busiest_second, LIGHT_BLUE)))?;
        let created = timeline.buckets().filter(|b| b.busiest_second_created > 0);
        chart.draw_series(created.map(|b| bar(b.start_sec, b.busiest_second_created, BLUE)))?;
        if timeline.bucket_secs > 1 {
            for period in &timeline.periods {
                let average = period.buckets.iter().map(|b| {
                    let x = axis.x(b.start_sec as f64) + width / 2.0;
                    (x, b.created as f64 / width)
                });
                chart.draw_series(LineSeries::new(average, INK.stroke_width(1)))?;
            }
        }
        for period in axis.periods() {
            let cps_line = [(period.start, f64::from(cps)), (period.end, f64::from(cps))];
            chart.draw_series(LineSeries::new(cps_line, CPS_RED.stroke_width(2)))?;
        }
        Ok(())
    })
}

pub fn queue_time(timeline: &Timeline) -> Result<String, ChartError> {
    const TITLE: &str = "queue_time of the created calls (Twilio's wait before dialing)";
    let queued = timeline.buckets().filter(|b| b.queued_calls > 0).count();
    let (Some(axis), false) = (TimeAxis::new(&timeline.spans()), queued == 0) else {
        return empty(TITLE, "No created call reported a queue_time yet");
    };
    let per = match timeline.bucket_secs {
        1 => "each second".to_owned(),
        n => format!("each {n} s"),
    };
    let keys = [
        Key::new(format!("longest in {per}"), Mark::Line(LIGHT_BLUE, 2)),
        Key::new(format!("average in {per}"), Mark::Line(BLUE, 2)),
    ];
    svg(TITLE, (WIDTH, HEIGHT + legend_height(&keys)), |root| {
        let longest = timeline.buckets().filter_map(|b| b.queue_time_max_ms).max();
        let y_max = (longest.unwrap_or(0).max(100) as f64 * 1.15).ceil();
        let plot = titled(root, TITLE, &keys)?;
        let mut chart = time_chart(&plot, &axis, y_max)?;
        house_mesh(&mut chart)
            .disable_x_mesh()
            .x_label_formatter(&|at| axis.label(*at))
            .y_label_formatter(&|ms| format!("{ms:.0}"))
            .x_desc(axis.description())
            .y_desc("queue_time (ms)")
            .draw()?;
        draw_breaks(&mut chart, &axis, y_max)?;
        let middle =
            |b: &RequestBucket| axis.x(b.start_sec as f64) + timeline.bucket_secs as f64 / 2.0;
        let dots = queued <= 120;
        // A line within each period: none is drawn across an idle gap.
        for period in &timeline.periods {
            let queued = || period.buckets.iter().filter(|b| b.queued_calls > 0);
            let longest = queued().filter_map(|b| Some((middle(b), b.queue_time_max_ms? as f64)));
            let average = queued().filter_map(|b| Some((middle(b), b.queue_time_avg_ms?)));
            chart.draw_series(LineSeries::new(longest, LIGHT_BLUE.stroke_width(2)))?;
            chart.draw_series(
                LineSeries::new(average, BLUE.stroke_width(2)).point_size(if dots { 3 } else { 0 }),
            )?;
        }
        Ok(())
    })
}

type TimeChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, RangedCoordf64>>;

/// A chart whose x axis is the time spent dialing (`TimeAxis`), ticked on round clock times,
/// on the area its title and legend left.
fn time_chart<'a, 'b>(
    plot: &'a Area<'b>,
    axis: &TimeAxis,
    y_max: f64,
) -> Result<TimeChart<'a, 'b>, Box<dyn std::error::Error>> {
    let x = Ticked::new(axis.range(), axis.ticks());
    Ok(ChartBuilder::on(plot)
        .margin(18)
        .margin_right(40)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(x, 0.0..y_max.max(1.0))?)
}

/// Each idle gap cut out of the axis: a grey band, and how long nothing was sent.
fn draw_breaks(chart: &mut TimeChart<'_, '_>, axis: &TimeAxis, y_max: f64) -> Drawn {
    let breaks = axis.breaks();
    chart.draw_series(
        breaks
            .iter()
            .map(|b| Rectangle::new([(b.from, 0.0), (b.to, y_max)], BREAK_GREY.filled())),
    )?;
    let style = font(12.0)
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    // Two lines of text a few pixels under the top, centred on the band.
    chart.draw_series(breaks.iter().map(|b| {
        EmptyElement::at(((b.from + b.to) / 2.0, y_max))
            + Text::new("idle", (0, 4), style.clone())
            + Text::new(idle_text(b.idle_secs), (0, 20), style.clone())
    }))?;
    Ok(())
}

pub fn answer_rate_by_hour(hours: &LocalHours) -> Result<String, ChartError> {
    const TITLE: &str = "Answer rate by hour of the day, in each callee's own time zone";
    if hours.ended() == 0 {
        return empty(TITLE, "No call has ended yet");
    }
    let mut keys = vec![Key::new("answered (completed)", Mark::Bar(BLUE))];
    // Who answered is known only where answering machine detection was asked for.
    if hours.answered_by_human() > 0 {
        keys.push(Key::new("answered by a person", Mark::Bar(DARK_BLUE)));
    }
    svg(TITLE, (WIDTH, 380 + legend_height(&keys)), |root| {
        let ticks: Vec<f64> = (0..24).map(|h| f64::from(h) + 0.5).collect();
        let plot = titled(root, TITLE, &keys)?;
        // Above 100%: room for the count over a full bar.
        let mut chart = ChartBuilder::on(&plot)
            .margin(18)
            .x_label_area_size(56)
            .y_label_area_size(76)
            .build_cartesian_2d(Ticked::new(0.0..24.0, ticks), 0.0..108.0)?;
        house_mesh(&mut chart)
            .disable_x_mesh()
            .x_label_formatter(&|x| format!("{:02}h", x.floor() as u32))
            .y_labels(7)
            .y_label_formatter(&|y| {
                if *y <= 100.0 {
                    format!("{y:.0}%")
                } else {
                    String::new()
                }
            })
            .x_desc("hour of the day at the callee (their local time)")
            .y_desc("answered, % of ended calls")
            .draw()?;
        let rate = |n: u64, of: u64| n as f64 * 100.0 / of as f64;
        let called = || {
            hours
                .by_hour
                .iter()
                .enumerate()
                .filter(|(_, h)| h.ended > 0)
        };
        chart.draw_series(called().map(|(hour, h)| {
            let x = hour as f64;
            let corners = [(x + 0.12, 0.0), (x + 0.88, rate(h.answered, h.ended))];
            Rectangle::new(corners, BLUE.filled())
        }))?;
        if keys.len() > 1 {
            chart.draw_series(called().map(|(hour, h)| {
                let x = hour as f64;
                let top = rate(h.answered_by_human, h.ended);
                Rectangle::new([(x + 0.3, 0.0), (x + 0.7, top)], DARK_BLUE.filled())
            }))?;
        }
        let count_style = font(12.0)
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(called().map(|(hour, h)| {
            let at = (hour as f64 + 0.5, rate(h.answered, h.ended) + 2.0);
            Text::new(thousands(h.ended), at, count_style.clone())
        }))?;
        Ok(())
    })
}
