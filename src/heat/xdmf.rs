//! The XDMF sidecar (`heat.xmf` beside `heat.h5`): a small XML file that
//! tells ParaView and VisIt how to read the HDF5 datasets as a uniform
//! grid over time: an image in the XY plane in 2D, a volume in 3D. The data stay in the HDF5 file; the sidecar refers to
//! it by file name, so keep the two side by side.
//!
//! The layout is the one every reader ParaView 5.11 ships (XDMF Reader,
//! Xdmf3ReaderS, Xdmf3ReaderT) and VTK's `vtkXdmfReader` read alike, found
//! by trying them (`tests/outputs.rs` opens it with `pvbatch`):
//! - one temporal collection, steps in time order, the final field
//!   (`/heat/temperature`) its last step, no grid beside it (a standalone
//!   grid shows as a second, overlapping block);
//! - each step one plain HDF item naming a dataset of the field's shape:
//!   the snapshot views of `/heat/snapshot_views` (the Xdmf3 readers skip
//!   `HyperSlab` items);
//! - `3DCoRectMesh` of `1 ny nx` points with z-y-x origin and spacing in
//!   2D (`2DCoRectMesh` lands in the YZ plane in both VTK generations), of
//!   `nz ny nx` points in 3D;
//! - geometry with `Precision="8"` (without it dx = 0.01 reads as float32);
//! - times printed in full (shortest round-trip) so they equal the file's;
//! - the problem (init, its file and checksum, each wall, the source, the
//!   exact solution: what `/heat`'s attributes hold) as `<Information
//!   Name Value>` elements of the domain, so that a sidecar opened without
//!   its HDF5 file still says what was solved.

use std::fmt::Write as _;

use super::config::{HeatConfig, Wall};
use super::layout::{view_name, Axis};

/// One time step of the collection.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    time: f64,
    /// The 2D dataset holding the field at this time.
    dataset: String,
}

/// What the sidecar describes; rendered once the run is complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Xdmf {
    h5_name: String,
    /// The field's axes, slowest first (y, x; z, y, x in 3D).
    axes: Vec<Axis>,
    final_step: u64,
    final_time: f64,
    snapshots: Vec<Step>,
    information: Information,
}

/// A wall's pairs: `bc_SIDE_kind`, and `bc_SIDE` (a value) or
/// `bc_SIDE_expression` (2D's and 3D's walls alike).
pub fn push_wall(pairs: &mut Vec<(String, String)>, side: &str, wall: &Wall) {
    pairs.push((format!("bc_{side}_kind"), wall.kind().into()));
    match wall {
        Wall::Value(v) => pairs.push((format!("bc_{side}"), format!("{v:?}"))),
        Wall::Expr(e) => pairs.push((format!("bc_{side}_expression"), e.clone())),
        Wall::Insulated | Wall::Periodic => {}
    }
}

/// `exact`, or else `source`, where given (the exact solution implies the
/// source).
pub fn push_problem(
    pairs: &mut Vec<(String, String)>,
    exact: Option<&String>,
    source: Option<&String>,
) {
    if let Some(exact) = exact {
        pairs.push(("exact".into(), exact.clone()));
    } else if let Some(source) = source {
        pairs.push(("source".into(), source.clone()));
    }
}

/// The problem as name-value pairs, named as `/heat`'s attributes are
/// (`super::io::write_attributes`): `init`, `init_file` and
/// `init_checksum` for a field read from a file, `bc_SIDE_kind` for each
/// wall with `bc_SIDE` (a value) or `bc_SIDE_expression`, and `exact`, or
/// else `source`, where given (the exact solution implies the source).
#[derive(Debug, Clone, PartialEq)]
pub struct Information(Vec<(String, String)>);

impl Information {
    /// The problem as `pairs` of name and value (3D's, see
    /// `super::output3d::information`).
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// `init_sum`: the checksum of the initial field read from a file.
    pub fn of(cfg: &HeatConfig, init_sum: Option<u64>) -> Self {
        let mut pairs = vec![("init".to_string(), cfg.init.name().to_string())];
        if let (Some(file), Some(sum)) = (cfg.init.file(), init_sum) {
            pairs.push(("init_file".into(), file.shown()));
            pairs.push(("init_checksum".into(), sum.to_string()));
        }
        for (side, wall) in cfg.boundaries.sides() {
            push_wall(&mut pairs, side, wall);
        }
        push_problem(
            &mut pairs,
            cfg.exact.as_ref().map(|e| &e.text),
            cfg.source.as_ref().map(|s| &s.text),
        );
        Self(pairs)
    }

    /// The XML of the elements, one line each.
    fn render(&self) -> String {
        let mut s = String::new();
        for (name, value) in &self.0 {
            let (name, value) = (xml_escape(name), xml_escape(value));
            let _ = writeln!(s, "  <Information Name=\"{name}\" Value=\"{value}\"/>");
        }
        s
    }

    /// The exact size of [`Self::render`]'s text, for the reservation.
    pub fn bytes(&self) -> u64 {
        self.render().len() as u64
    }
}

impl Xdmf {
    /// `h5_name`: the result file's name as seen from the sidecar's
    /// directory; `axes`: the field's, slowest first; the step the final
    /// field is at and its time; `information`: the problem (see
    /// [`Information::of`]).
    pub fn new(
        h5_name: &str,
        axes: &[Axis],
        (final_step, final_time): (u64, f64),
        information: Information,
    ) -> Self {
        Self {
            h5_name: h5_name.to_string(),
            axes: axes.to_vec(),
            final_step,
            final_time,
            snapshots: Vec::new(),
            information,
        }
    }

    /// At most the size of the sidecar of a run with `snapshots`
    /// snapshots, a result file name of up to 1000 bytes and the problem
    /// `information` (reserved on disk before the run; see the test): the
    /// information's own size is exact, as expressions and file names
    /// are as long as the user makes them.
    pub fn bytes(snapshots: u64, information: &Information) -> u64 {
        (snapshots.saturating_add(1).saturating_mul(2048) + 1024)
            .saturating_add(information.bytes())
    }

    /// Snapshot `k` of the file, taken at `step` (time `time`). A snapshot
    /// at the final step is the final field, which ends the series anyway.
    pub fn push_snapshot(&mut self, k: usize, step: u64, time: f64) {
        if step != self.final_step {
            self.snapshots.push(Step {
                time,
                dataset: format!("/heat/snapshot_views/{}", view_name(k)),
            });
        }
    }

    /// The steps in time order, the final field last.
    fn steps(&self) -> Vec<Step> {
        let mut steps = self.snapshots.clone();
        steps.sort_by(|a, b| a.time.total_cmp(&b.time));
        steps.push(Step {
            time: self.final_time,
            dataset: "/heat/temperature".into(),
        });
        steps
    }

    /// The XML text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s += "<?xml version=\"1.0\" ?>\n";
        s += "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
        s += "<Xdmf Version=\"3.0\">\n <Domain>\n";
        s += &self.information.render();
        s += "  <Grid Name=\"heat\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
        for (k, step) in self.steps().iter().enumerate() {
            self.grid(&mut s, k, step);
        }
        s += "  </Grid>\n </Domain>\n</Xdmf>\n";
        s
    }

    /// The mesh's points, origin and spacing, z-y-x: a 2D field is one
    /// layer of points at z = 0, a 3D field's first cell centre is at
    /// (dx, dy, dz).
    fn mesh(&self) -> [String; 3] {
        let (mut dims, mut origin, mut spacing) = (Vec::new(), Vec::new(), Vec::new());
        if self.axes.len() == 2 {
            (dims, origin, spacing) = (vec!["1".into()], vec!["0".into()], vec!["1".into()]);
        }
        for a in &self.axes {
            dims.push(a.n.to_string());
            origin.push(format!("{:?}", a.d));
            spacing.push(format!("{:?}", a.d));
        }
        [dims, origin, spacing].map(|v| v.join(" "))
    }

    /// One uniform grid: the field at one time.
    fn grid(&self, s: &mut String, k: usize, step: &Step) {
        let [dims, origin, spacing] = self.mesh();
        let h5 = xml_escape(&self.h5_name);
        let float = "Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"3\"";
        let _ = write!(
            s,
            "   <Grid Name=\"step {k}\" GridType=\"Uniform\">\n\
             \x20   <Time Value=\"{time:?}\"/>\n\
             \x20   <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"{dims}\"/>\n\
             \x20   <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n\
             \x20    <DataItem {float}>{origin}</DataItem>\n\
             \x20    <DataItem {float}>{spacing}</DataItem>\n\
             \x20   </Geometry>\n\
             \x20   <Attribute Name=\"temperature\" AttributeType=\"Scalar\" Center=\"Node\">\n\
             \x20    <DataItem Format=\"HDF\" NumberType=\"Float\" Precision=\"8\" \
             Dimensions=\"{dims}\">{h5}:{dataset}</DataItem>\n\
             \x20   </Attribute>\n\
             \x20  </Grid>\n",
            time = step.time,
            dataset = step.dataset,
        );
    }
}

/// Escape the five XML special characters (file names may contain them).
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::config::HeatRequest;

    fn axes(cfg: &HeatConfig) -> Vec<Axis> {
        crate::heat::layout::axes(&[cfg.nx, cfg.ny], &[cfg.dx, cfg.dy])
    }

    /// A problem with every kind of information, long and full of XML's
    /// special characters (in the init file's name; the expression
    /// language has none of them).
    fn problem(init: &str) -> HeatConfig {
        let long = |v: &str| format!("{v}*y{}", format!(" + 0.001*sin({v}*t)").repeat(60));
        HeatConfig::new(&HeatRequest {
            init: Some(init.parse().unwrap()),
            left: Some(Wall::Expr(long("y"))),
            right: Some(Wall::Insulated),
            bottom: Some(Wall::Value(-1.25e-300)),
            source: Some(long("x")),
            ..HeatRequest::default()
        })
        .unwrap()
    }

    #[test]
    fn the_reserved_size_holds_the_sidecar() {
        for cfg in [
            HeatConfig::new(&HeatRequest::default()).unwrap(),
            problem(&format!("{}<&>'\".h5:/a<b>/c\"d'", "w".repeat(900))),
        ] {
            for n in [0u64, 1, 7, 300] {
                let info = Information::of(&cfg, Some(u64::MAX));
                let bytes = Xdmf::bytes(n, &info);
                let mut x = Xdmf::new(&"n".repeat(1000), &axes(&cfg), (u64::MAX, 0.0), info);
                for k in 0..n {
                    x.push_snapshot(k as usize, k, -1.2345678901234567e-300 * k as f64);
                }
                assert!(x.render().len() as u64 <= bytes, "{n} snapshots");
            }
        }
    }

    #[test]
    fn the_problem_is_in_information_elements_escaped() {
        let cfg = problem("a<b>&'\".npy");
        let x = Xdmf::new(
            "h.h5",
            &axes(&cfg),
            (3, 0.0),
            Information::of(&cfg, Some(42)),
        );
        let text = x.render();
        let info = |name: &str| {
            let at = text
                .find(&format!("<Information Name=\"{name}\" Value=\""))
                .unwrap_or_else(|| panic!("no {name} in {text}"));
            let rest = &text[at..];
            rest[..rest.find("/>").unwrap()].to_string()
        };
        assert!(info("init").ends_with("Value=\"a&lt;b&gt;&amp;&apos;&quot;.npy\""));
        assert!(info("init_file").contains("a&lt;b&gt;&amp;&apos;&quot;.npy"));
        assert!(info("init_checksum").ends_with("Value=\"42\""));
        assert!(info("bc_left_kind").ends_with("Value=\"expression\""));
        assert!(info("bc_left_expression").contains("0.001*sin(y*t)"));
        assert!(info("bc_right_kind").ends_with("Value=\"insulated\""));
        assert!(info("bc_bottom").ends_with("Value=\"-1.25e-300\""));
        assert!(info("bc_top_kind").ends_with("Value=\"value\""));
        assert!(info("source").contains("x*y + 0.001"));
        assert!(!text.contains("bc_right\"") && !text.contains("\"exact\""));
        // Inside the domain, before the one temporal collection.
        let (domain, grid) = (text.find("<Domain>").unwrap(), text.find("<Grid ").unwrap());
        assert!((domain..grid).contains(&text.find("<Information ").unwrap()));
    }

    fn config() -> HeatConfig {
        HeatConfig::new(&HeatRequest {
            nx: Some(30),
            ny: Some(20),
            steps: Some(10),
            ..HeatRequest::default()
        })
        .unwrap()
    }

    #[test]
    fn one_temporal_series_ending_with_the_final_field() {
        let cfg = config();
        let mut x = Xdmf::new(
            "a&b.h5",
            &axes(&cfg),
            (12, cfg.time_label(12)),
            Information::of(&cfg, None),
        );
        for k in 0..3 {
            x.push_snapshot(k, 5 * k as u64, cfg.time_label(5 * k as u64));
        }
        let text = x.render();
        assert_eq!(text.matches("<Grid ").count(), 5, "collection + 3 + final");
        assert_eq!(text.matches("</Grid>").count(), 5);
        assert_eq!(text.matches("CollectionType=\"Temporal\"").count(), 1);
        for k in 0..3 {
            assert!(text.contains(&format!(">a&amp;b.h5:/heat/snapshot_views/00000{k}<")));
        }
        let last = text.rfind("<Time ").unwrap();
        assert!(text[last..].contains(&format!("Value=\"{:?}\"", cfg.time_label(12))));
        assert!(text[last..].contains(":/heat/temperature<"));
        assert!(!text.contains("HyperSlab") && !text.contains("2DCoRectMesh"));
        assert!(text.contains("Dimensions=\"1 20 30\""));
        assert!(text.contains(&format!(">0 {:?} {:?}<", cfg.dy, cfg.dx)));
    }

    #[test]
    fn a_snapshot_at_the_final_step_is_the_final_field() {
        let cfg = config();
        let mut x = Xdmf::new(
            "h.h5",
            &axes(&cfg),
            (10, cfg.time_label(10)),
            Information::of(&cfg, None),
        );
        for (k, step) in [0u64, 5, 10].into_iter().enumerate() {
            x.push_snapshot(k, step, cfg.time_label(step));
        }
        let times: Vec<f64> = x.steps().iter().map(|s| s.time).collect();
        assert_eq!(times, [0.0, cfg.time_label(5), cfg.time_label(10)]);
        assert!(!x.render().contains("/heat/snapshot_views/000002"));
    }

    #[test]
    fn a_3d_field_is_a_volume_of_nz_ny_nx_points() {
        let axes = crate::heat::layout::axes(&[5, 4, 3], &[0.01, 0.02, 0.03]);
        let x = Xdmf::new("v.h5", &axes, (7, 0.5), Information::new(Vec::new()));
        let text = x.render();
        assert_eq!(text.matches("Dimensions=\"3 4 5\"").count(), 2, "{text}");
        assert!(
            text.contains(">0.03 0.02 0.01<"),
            "origin and spacing: {text}"
        );
        assert!(!text.contains("Dimensions=\"1 "), "{text}");
    }
}
