//! What every chart of the HTML report shares: the SVG canvas (plotters' SVG backend), the
//! palette, text, and axes ticked where we say. Text is laid out by the browser
//! (`text-anchor`, the generic `sans-serif` family), so no font is read, shipped or measured
//! here: plotters' built-in estimate (no font feature) only sizes what we do not size ourselves.

use super::markup::escape;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

pub const WIDTH: u32 = 1080;

pub const BLUE: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
pub const LIGHT_BLUE: RGBColor = RGBColor(0x9E, 0xC5, 0xE6);
/// The configured CPS: the one red line of the report.
pub const CPS_RED: RGBColor = RGBColor(0xD6, 0x27, 0x28);
pub const INK: RGBColor = RGBColor(0x22, 0x2B, 0x36);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE7, 0xEC);
pub const MUTED: RGBColor = RGBColor(0x6B, 0x75, 0x80);

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type Drawn = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, thiserror::Error)]
#[error("could not draw the chart {chart:?}: {cause}")]
pub struct ChartError {
    pub chart: &'static str,
    cause: String,
}

/// An `<svg>` of `size` drawn by `draw`, named by `chart` for assistive technology, without
/// the XML namespace an inline SVG does not need.
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
    // An image to assistive technology, named by its title (the page adds its description).
    let named = format!(r#"<svg role="img" aria-label="{}" "#, escape(chart));
    Ok(out
        .replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
        .replacen("<svg ", &named, 1))
}

/// `100000` as `100,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Text of `px` CSS pixels (plotters writes `font-size` as its size / 1.24).
pub fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Normal)
}

pub fn title(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Bold)
}

/// A chart with nothing to show yet: its title, and a line saying so.
pub fn empty(chart: &'static str, text: &str) -> Result<String, ChartError> {
    svg(chart, (WIDTH, 110), |root| {
        let area = root.titled(chart, title(18.0).color(&INK))?;
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

/// A chart's grid, axes and labels in the report's style; each chart adds its labels.
pub fn house_mesh<'a, 'b, DB, XT, YT, X, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
{
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .label_style(font(13.0).color(&INK))
        .axis_desc_style(font(14.0).color(&INK));
    mesh
}

/// What a legend entry shows beside its name: a bar's colour, or a line's stroke.
pub enum Mark {
    Bar(RGBColor),
    Line(RGBColor, u32),
}

/// A legend entry.
pub struct Key {
    pub name: String,
    pub mark: Mark,
}

impl Key {
    pub fn new(name: impl Into<String>, mark: Mark) -> Self {
        Self {
            name: name.into(),
            mark,
        }
    }
}

const KEY_ROW: u32 = 22;
/// A key's swatch, the gap after it, and the gap to the next key.
const KEY_SWATCH: f64 = 18.0;
const KEY_GAP: f64 = 6.0;
const KEY_SPACING: f64 = 24.0;

/// Keys laid out in rows that fit the width, each row centred: `(row, x)` of each key.
fn key_places(keys: &[Key]) -> Vec<(u32, f64)> {
    // A 13 px sans-serif letter is about 6.3 px wide on average; a little room to spare.
    let width = |key: &Key| KEY_SWATCH + KEY_GAP + 6.8 * key.name.chars().count() as f64;
    let room = f64::from(WIDTH) - 80.0;
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
    let mut used = 0.0;
    for (i, key) in keys.iter().enumerate() {
        let w = width(key);
        let last = rows.last_mut().expect("one row at least");
        if !last.is_empty() && used + KEY_SPACING + w > room {
            rows.push(vec![(i, w)]);
            used = w;
        } else {
            used += if last.is_empty() { w } else { KEY_SPACING + w };
            last.push((i, w));
        }
    }
    let mut places = vec![(0, 0.0); keys.len()];
    for (row, entries) in rows.iter().enumerate() {
        let total = entries.iter().map(|(_, w)| w).sum::<f64>()
            + KEY_SPACING * entries.len().saturating_sub(1) as f64;
        let mut x = (f64::from(WIDTH) - total) / 2.0;
        for (i, w) in entries {
            places[*i] = (row as u32, x);
            x += w + KEY_SPACING;
        }
    }
    places
}

/// The height the legend of `keys` takes under a chart's title.
pub fn legend_height(keys: &[Key]) -> u32 {
    match key_places(keys).iter().map(|(row, _)| row + 1).max() {
        Some(rows) => rows * KEY_ROW + 8,
        None => 0,
    }
}

/// Draws the chart's title, then its legend under it, outside the plot: a legend never
/// covers a bar, a line or a value. Returns the area left for the plot.
pub fn titled<'a>(
    root: &Area<'a>,
    title_text: &str,
    keys: &[Key],
) -> Result<Area<'a>, Box<dyn std::error::Error>> {
    let area = root.titled(title_text, title(18.0).color(&INK))?;
    let (strip, plot) = area.split_vertically(legend_height(keys));
    let text = font(13.0)
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (key, (row, x)) in keys.iter().zip(key_places(keys)) {
        let (x, y) = (x.round() as i32, (row * KEY_ROW + KEY_ROW / 2) as i32);
        let end = x + KEY_SWATCH as i32;
        match key.mark {
            Mark::Bar(color) => {
                strip.draw(&Rectangle::new([(x, y - 6), (end, y + 6)], color.filled()))?
            }
            Mark::Line(color, width) => strip.draw(&PathElement::new(
                [(x, y), (end, y)],
                color.stroke_width(width),
            ))?,
        }
        let at = (end + KEY_GAP as i32, y);
        strip.draw(&Text::new(key.name.clone(), at, text.clone()))?;
    }
    Ok(plot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_are_grouped_by_thousands() {
        let shown: Vec<String> = [0, 999, 1_000, 32_667, 100_000, 1_234_567]
            .into_iter()
            .map(thousands)
            .collect();

        assert_eq!(
            shown,
            ["0", "999", "1,000", "32,667", "100,000", "1,234,567"]
        );
    }
}
