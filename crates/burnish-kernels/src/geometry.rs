//! The geometry of a 2-D convolution, shared by the f32 and int8 kernels: the window
//! ([`Conv2dParams`]: stride, pads, dilation, the ONNX attributes) and a whole call's shape
//! ([`Conv2dGeometry`]), with the one output-size rule both use.

use crate::KernelError;

/// The window of a 2-D convolution (ONNX Conv attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dParams {
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Padding: top, left, bottom, right (ONNX `pads` order for 2-D).
    pub pads: [usize; 4],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Self {
            stride: [1, 1],
            pads: [0; 4],
            dilation: [1, 1],
        }
    }
}

impl Conv2dParams {
    /// Padding at the start (top, left).
    pub fn pad_begin(&self) -> [usize; 2] {
        [self.pads[0], self.pads[1]]
    }

    /// Padding at the end (bottom, right).
    pub fn pad_end(&self) -> [usize; 2] {
        [self.pads[2], self.pads[3]]
    }

    /// Output height and width of a `kernel` sliding over an `input` of height and width;
    /// an error when a stride or dilation is zero or the kernel does not fit the padded input.
    pub fn output_hw(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
    ) -> Result<[usize; 2], KernelError> {
        if self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(KernelError::Conv(
                "stride and dilation must be positive".into(),
            ));
        }
        let mut out = [0; 2];
        for (i, out) in out.iter_mut().enumerate() {
            let span = kernel[i].saturating_sub(1) * self.dilation[i] + 1;
            let padded = input[i] + self.pads[i] + self.pads[i + 2];
            if kernel[i] == 0 || padded < span {
                return Err(KernelError::Conv(format!(
                    "kernel {kernel:?} (dilation {:?}) does not fit the padded input {input:?}",
                    self.dilation
                )));
            }
            *out = (padded - span) / self.stride[i] + 1;
        }
        Ok(out)
    }
}

/// Shape of one 2-D convolution call (a 1-D convolution is a 2-D one with height 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Batch size.
    pub batch: usize,
    /// Input channels (all groups).
    pub in_channels: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels (all groups).
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride, pads and dilation.
    pub window: Conv2dParams,
    /// Groups.
    pub groups: usize,
}

impl Conv2dGeometry {
    /// Output height and width, or an error when the kernel does not fit the padded input.
    pub fn output(&self) -> Result<[usize; 2], KernelError> {
        self.window.output_hw(self.input, self.kernel)
    }

    /// Input channels per group.
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.groups
    }

    /// Output channels per group.
    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.groups
    }

    /// Number of output elements.
    pub fn output_len(&self) -> Result<usize, KernelError> {
        let [oh, ow] = self.output()?;
        Ok(self.batch * self.out_channels * oh * ow)
    }
}
