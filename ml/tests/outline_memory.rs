//! Outlining a data set (what an upload's check and the data-set page need) holds no column's
//! values, so its memory does not grow with the file; loading it does. Measured with a
//! counting allocator, so this is its own test binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ml::dataset::DatasetOutline;
use ml::{Dataset, LoadOptions};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `work`, above what was live when it started.
fn peak_of<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = work();
    (result, PEAK.load(Ordering::Relaxed) - before)
}

/// An AI4I 2020-shaped file: identifiers, a two-level type, five sensors, the target and
/// its five mode flags.
fn ai4i_csv(rows: usize) -> String {
    let mut csv = String::from(
        "UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],\
         Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n",
    );
    for row in 0..rows {
        let failed = usize::from(row % 29 == 0);
        csv.push_str(&format!(
            "{},{}{},{},{:.1},{:.1},{},{:.1},{},{failed},0,{failed},0,0,0\n",
            row + 1,
            ["L", "M", "H"][row % 3],
            10_000 + row,
            ["L", "M", "H"][row % 3],
            295.0 + (row % 70) as f64 / 10.0,
            305.0 + (row % 60) as f64 / 10.0,
            1_200 + row % 1_500,
            20.0 + (row % 500) as f64 / 10.0,
            row % 250,
        ));
    }
    csv
}

#[test]
fn an_outline_takes_memory_for_its_columns_not_its_rows() {
    let csv = ai4i_csv(200_000);
    let file = csv.len();
    assert!(
        file > 8 << 20,
        "a file of {file} bytes is too small to tell"
    );

    let (outline, outline_peak) =
        peak_of(|| DatasetOutline::read(csv.as_bytes(), &LoadOptions::default()).unwrap());
    let (dataset, load_peak) =
        peak_of(|| Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap());

    assert_eq!(outline.rows, dataset.rows);
    assert_eq!(outline.rows, 200_000);
    assert!(
        load_peak > file,
        "loading holds the values: {load_peak} bytes at most for a {file}-byte file"
    );
    assert!(
        outline_peak < 256 << 10,
        "the outline of a {file}-byte file took {outline_peak} bytes at its peak"
    );
}
