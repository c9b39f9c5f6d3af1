//! [`DriftAnalysis`] collects inputs, predictions and clip rates; [`DriftReport`] is the result.

use serde::{Deserialize, Serialize};

use crate::features::{extract_features, feature_count};
use crate::{
    ClipInput, ClipRate, DriftError, DriftSettings, FeatureDrift, InputSpec, Layout,
    PredictionDrift, QuantizedActivation, Sample, Verdict, clip_rates, compare_feature,
    prediction_drift, quantized_clip_rates,
};

/// Version of the [`DriftReport`] JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// What was analysed for one input tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// Input name.
    pub name: String,
    /// Reference shape.
    pub reference_shape: Vec<usize>,
    /// Current shape.
    pub current_shape: Vec<usize>,
    /// How its values were treated.
    pub spec: InputSpec,
    /// Features it produced.
    pub features: usize,
}

/// Everything one drift analysis found; serializable, and renderable as a table
/// ([`DriftReport::render_table`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// The settings used.
    pub settings: DriftSettings,
    /// One entry per input tensor, in the order added.
    pub inputs: Vec<InputSummary>,
    /// One row per feature, inputs in the order added.
    pub features: Vec<FeatureDrift>,
    /// Top-1 prediction drift, when model outputs were given.
    pub prediction: Option<PredictionDrift>,
    /// Clip rates per quantized activation, when given.
    pub clip_rates: Vec<ClipRate>,
    /// The overall decision.
    pub verdict: Verdict,
}

impl DriftReport {
    /// Pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, DriftError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Reads a report written by [`to_json`](Self::to_json); errors on another schema version.
    pub fn from_json(json: &str) -> Result<Self, DriftError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let found = serde_json::from_str::<Version>(json)?.schema_version;
        if found != SCHEMA_VERSION {
            return Err(DriftError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(serde_json::from_str(json)?)
    }
}

/// Builds a [`DriftReport`] step by step: add inputs, optionally predictions and clip rates,
/// then [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct DriftAnalysis {
    settings: DriftSettings,
    inputs: Vec<InputSummary>,
    features: Vec<FeatureDrift>,
    prediction: Option<PredictionDrift>,
    clip_rates: Vec<ClipRate>,
}

impl DriftAnalysis {
    /// Starts an analysis; errors when a setting is out of range.
    pub fn new(settings: DriftSettings) -> Result<Self, DriftError> {
        settings.validate()?;
        Ok(DriftAnalysis {
            settings,
            inputs: Vec::new(),
            features: Vec::new(),
            prediction: None,
            clip_rates: Vec::new(),
        })
    }

    /// Compares one input tensor, reference against current, feature by feature.
    ///
    /// Both sides must have the same rank (unless `spec.layout` is [`Layout::Pooled`]) and
    /// yield the same number of features; the sample counts may differ.
    pub fn add_input(
        &mut self,
        name: &str,
        reference: &Sample<'_>,
        current: &Sample<'_>,
        spec: InputSpec,
    ) -> Result<&mut Self, DriftError> {
        if self.inputs.iter().any(|i| i.name == name) {
            return Err(DriftError::Duplicate { name: name.into() });
        }
        if spec.layout != Layout::Pooled && reference.rank() != current.rank() {
            return Err(DriftError::RankMismatch {
                input: name.into(),
                reference: reference.rank(),
                current: current.rank(),
            });
        }
        let (rf, cf) = (
            feature_count(reference, spec.layout),
            feature_count(current, spec.layout),
        );
        if rf != cf {
            return Err(DriftError::FeatureCountMismatch {
                input: name.into(),
                reference: rf,
                current: cf,
            });
        }
        let s = &self.settings;
        let max = s.max_values_per_feature;
        let r = extract_features(name, reference, &spec, max, s.seed)?;
        let c = extract_features(name, current, &spec, max, s.seed.wrapping_add(1))?;
        let rows = r
            .iter()
            .zip(&c)
            .map(|(r, c)| compare_feature(r, c, spec.kind, s))
            .collect::<Result<Vec<_>, _>>()?;
        self.features.extend(rows);
        self.inputs.push(InputSummary {
            name: name.into(),
            reference_shape: reference.shape().to_vec(),
            current_shape: current.shape().to_vec(),
            spec,
            features: rf,
        });
        Ok(self)
    }

    /// Compares model outputs (logits or probabilities, `[N, K]`), see
    /// [`prediction_drift`]. A second call replaces the first.
    pub fn set_predictions(
        &mut self,
        reference: &Sample<'_>,
        current: &Sample<'_>,
    ) -> Result<&mut Self, DriftError> {
        self.prediction = Some(prediction_drift(reference, current, &self.settings)?);
        Ok(self)
    }

    /// Adds clip rates of quantized activations, see [`clip_rates`]; names must be new.
    pub fn add_clip_rates(&mut self, inputs: &[ClipInput<'_>]) -> Result<&mut Self, DriftError> {
        let rates = clip_rates(inputs, &self.settings.clip)?;
        self.extend_clip_rates(rates)
    }

    /// Adds clip rates of `QuantizeLinear`-quantized activations, see
    /// [`quantized_clip_rates`]; names must be new.
    pub fn add_quantized_clip_rates(
        &mut self,
        acts: &[QuantizedActivation<'_>],
    ) -> Result<&mut Self, DriftError> {
        let rates = quantized_clip_rates(acts, &self.settings.clip)?;
        self.extend_clip_rates(rates)
    }

    fn extend_clip_rates(&mut self, rates: Vec<ClipRate>) -> Result<&mut Self, DriftError> {
        if let Some(dup) = rates
            .iter()
            .find(|r| self.clip_rates.iter().any(|c| c.name == r.name))
        {
            return Err(DriftError::Duplicate {
                name: dup.name.clone(),
            });
        }
        self.clip_rates.extend(rates);
        Ok(self)
    }

    /// Decides the verdict and returns the report.
    pub fn finish(self) -> DriftReport {
        let verdict = Verdict::decide(
            &self.features,
            self.prediction.as_ref(),
            &self.clip_rates,
            &self.settings.thresholds,
        );
        DriftReport {
            schema_version: SCHEMA_VERSION,
            settings: self.settings,
            inputs: self.inputs,
            features: self.features,
            prediction: self.prediction,
            clip_rates: self.clip_rates,
            verdict,
        }
    }
}
