//! The XDMF sidecar (`heat.xmf` beside `heat.h5`): a small XML file that
//! tells ParaView and VisIt how to read the HDF5 datasets as a uniform 2D
//! grid. It describes the final field and, as a temporal collection, every
//! snapshot (each a hyperslab of `/heat/snapshots`), so the run opens as a
//! time series. The data stay in the HDF5 file; the sidecar refers to it by
//! file name, so keep the two side by side.

use std::fmt::Write as _;

use super::config::HeatConfig;

/// What the sidecar describes; rendered once the run is complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Xdmf {
    h5_name: String,
    nx: usize,
    ny: usize,
    dx: f64,
    dy: f64,
    final_time: f64,
    snapshot_times: Vec<f64>,
}

impl Xdmf {
    /// `h5_name`: the result file's name as seen from the sidecar's
    /// directory; `final_step`: the step the final field is at.
    pub fn new(h5_name: &str, cfg: &HeatConfig, final_step: u64) -> Self {
        Self {
            h5_name: h5_name.to_string(),
            nx: cfg.nx,
            ny: cfg.ny,
            dx: cfg.dx,
            dy: cfg.dy,
            final_time: final_step as f64 * cfg.dt,
            snapshot_times: Vec::new(),
        }
    }

    /// At most the size of the sidecar of a run with `snapshots`
    /// snapshots and a result file name of up to 1000 bytes (reserved on
    /// disk before the run; see the test).
    pub fn bytes(snapshots: u64) -> u64 {
        snapshots.saturating_add(1).saturating_mul(2048) + 1024
    }

    pub fn push_snapshot(&mut self, time: f64) {
        self.snapshot_times.push(time);
    }

    /// The XML text.
    pub fn render(&self) -> String {
        let (nx, ny) = (self.nx, self.ny);
        let h5 = xml_escape(&self.h5_name);
        let mut s = String::new();
        s += "<?xml version=\"1.0\" ?>\n";
        s += "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
        s += "<Xdmf Version=\"3.0\">\n <Domain>\n";
        let grid = |s: &mut String, name: &str, time: f64, data: &str, indent: &str| {
            let _ = write!(
                s,
                "{indent}<Grid Name=\"{name}\" GridType=\"Uniform\">\n\
                 {indent} <Time Value=\"{time:e}\"/>\n\
                 {indent} <Topology TopologyType=\"2DCoRectMesh\" Dimensions=\"{ny} {nx}\"/>\n\
                 {indent} <Geometry GeometryType=\"ORIGIN_DXDY\">\n\
                 {indent}  <DataItem Format=\"XML\" NumberType=\"Float\" Dimensions=\"2\">{dy:e} {dx:e}</DataItem>\n\
                 {indent}  <DataItem Format=\"XML\" NumberType=\"Float\" Dimensions=\"2\">{dy:e} {dx:e}</DataItem>\n\
                 {indent} </Geometry>\n\
                 {indent} <Attribute Name=\"temperature\" AttributeType=\"Scalar\" Center=\"Node\">\n\
                 {data}\
                 {indent} </Attribute>\n\
                 {indent}</Grid>\n",
                dx = self.dx,
                dy = self.dy,
            );
        };
        let plain = format!(
            "    <DataItem Format=\"HDF\" NumberType=\"Float\" Precision=\"8\" \
             Dimensions=\"{ny} {nx}\">{h5}:/heat/temperature</DataItem>\n"
        );
        grid(&mut s, "temperature", self.final_time, &plain, "  ");
        if !self.snapshot_times.is_empty() {
            let n = self.snapshot_times.len();
            s +=
                "  <Grid Name=\"snapshots\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
            for (k, &t) in self.snapshot_times.iter().enumerate() {
                let slab = format!(
                    "     <DataItem ItemType=\"HyperSlab\" Dimensions=\"{ny} {nx}\">\n\
                     \x20     <DataItem Format=\"XML\" Dimensions=\"3 3\">{k} 0 0 1 1 1 1 {ny} {nx}</DataItem>\n\
                     \x20     <DataItem Format=\"HDF\" NumberType=\"Float\" Precision=\"8\" \
                     Dimensions=\"{n} {ny} {nx}\">{h5}:/heat/snapshots</DataItem>\n\
                     \x20    </DataItem>\n"
                );
                grid(&mut s, &format!("snapshot {k}"), t, &slab, "   ");
            }
            s += "  </Grid>\n";
        }
        s += " </Domain>\n</Xdmf>\n";
        s
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

    #[test]
    fn the_reserved_size_holds_the_sidecar() {
        let cfg = HeatConfig::new(&HeatRequest::default()).unwrap();
        for n in [0u64, 1, 7, 300] {
            let mut x = Xdmf::new(&"n".repeat(1000), &cfg, u64::MAX);
            for k in 0..n {
                x.push_snapshot(-1.2345678901234567e-300 * k as f64);
            }
            assert!(x.render().len() as u64 <= Xdmf::bytes(n), "{n} snapshots");
        }
    }

    #[test]
    fn describes_final_field_and_each_snapshot() {
        let cfg = HeatConfig::new(&HeatRequest {
            nx: Some(30),
            ny: Some(20),
            steps: Some(10),
            ..HeatRequest::default()
        })
        .unwrap();
        let mut x = Xdmf::new("a&b.h5", &cfg, 10);
        for k in 0..3 {
            x.push_snapshot(k as f64 * 5.0 * cfg.dt);
        }
        let text = x.render();
        assert!(text.contains("Dimensions=\"20 30\">a&amp;b.h5:/heat/temperature</DataItem>"));
        assert_eq!(text.matches("a&amp;b.h5:/heat/snapshots").count(), 3);
        assert!(text.contains(">2 0 0 1 1 1 1 20 30<"));
        assert!(text.contains("CollectionType=\"Temporal\""));
        assert_eq!(text.matches("<Grid ").count(), 5, "final + collection + 3");
        assert_eq!(text.matches("</Grid>").count(), 5);
    }
}
