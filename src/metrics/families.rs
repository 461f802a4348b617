//! One metric family at a time, written with prometheus-client's encoder:
//! rig reads its lock-free counters when scraped and hands the values over.

use std::fmt;

use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

/// Labels of one sample: `(name, value)` pairs.
pub(crate) type Labels<'a> = [(&'static str, &'a str)];

/// A sample's value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Counter(u64),
    Gauge(f64),
    /// Sum in seconds, count, `(upper bound, samples)` per bucket.
    Histogram(f64, u64, Vec<(f64, u64)>),
}

impl Value {
    fn metric_type(&self) -> MetricType {
        match self {
            Self::Counter(_) => MetricType::Counter,
            Self::Gauge(_) => MetricType::Gauge,
            Self::Histogram(..) => MetricType::Histogram,
        }
    }
}

/// A metric's name, help and unit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Desc {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) unit: Option<UnitKind>,
}

/// The units rig's metrics use.
#[derive(Clone, Copy, Debug)]
pub(crate) enum UnitKind {
    Bytes,
    Seconds,
}

/// A family and its samples, written once all are known (a family's
/// samples must be contiguous in the exposition).
#[derive(Debug)]
pub(crate) struct Family<'a> {
    desc: Desc,
    samples: Vec<(Vec<(&'static str, &'a str)>, Value)>,
}

impl<'a> Family<'a> {
    pub(crate) fn new(desc: Desc) -> Self {
        Self { desc, samples: Vec::new() }
    }

    pub(crate) fn add(&mut self, labels: &Labels<'a>, value: Value) {
        self.samples.push((labels.to_vec(), value));
    }

    /// Writes the family; nothing when it has no samples.
    pub(crate) fn encode(&self, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let Some((_, first)) = self.samples.first() else { return Ok(()) };
        let unit = self.desc.unit.map(|u| match u {
            UnitKind::Bytes => Unit::Bytes,
            UnitKind::Seconds => Unit::Seconds,
        });
        let mut family = encoder.encode_descriptor(
            self.desc.name,
            self.desc.help,
            unit.as_ref(),
            first.metric_type(),
        )?;
        for (labels, value) in &self.samples {
            let mut sample = family.encode_family(labels)?;
            match value {
                Value::Counter(v) => sample.encode_counter::<NoLabelSet, _, u64>(v, None)?,
                Value::Gauge(v) => sample.encode_gauge(v)?,
                Value::Histogram(sum, count, buckets) => {
                    sample.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None)?;
                }
            }
        }
        Ok(())
    }
}
