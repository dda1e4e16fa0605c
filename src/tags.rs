//! Every point-to-point message tag parsim uses, in one place, so that no
//! two protocols that could be in flight at once share a tag.

/// Halo messages: `HALO + (dy + 1) * 3 + (dx + 1)` for the direction of
/// travel `(dx, dy)`, so 10..=18.
pub const HALO: i32 = 10;
/// 3D heat halo messages: `HALO_3D + face` for the face of the sender's
/// block they leave through (`heat::decomp3d::FACES`), so 80..=85.
pub const HALO_3D: i32 = 80;
/// Heat: strips of the field gathered to rank 0.
pub const HEAT_GATHER: i32 = 20;
/// OU: per-member summaries (last value, lag-1 sums) gathered to rank 0.
pub const OU_SUMMARY: i32 = 30;
/// OU: recorded paths gathered to rank 0, in pieces.
pub const OU_PATHS: i32 = 31;
/// OU checkpoint: which members are done, their summaries, their records.
pub const OU_CKPT_DONE: i32 = 40;
pub const OU_CKPT_SUMMARY: i32 = 41;
pub const OU_CKPT_RECORDS: i32 = 42;
pub const OU_CKPT_PARTIAL: i32 = 43;
/// Mandelbrot's dynamic schedule: a rank asks rank 0 for rows, rank 0
/// answers with a chunk (first row, count; count 0: the round is over).
pub const MANDEL_REQUEST: i32 = 50;
pub const MANDEL_ASSIGN: i32 = 51;
/// Pairs: the travelling block passed around the ring; rows of the
/// distance matrix sent to rank 0 to be written.
pub const PAIRS_RING: i32 = 60;
pub const PAIRS_STRIP: i32 = 61;
/// `parsim pingpong`: the message and its echo (no workload runs alongside).
pub const PINGPONG: i32 = 70;
