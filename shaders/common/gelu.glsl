// gelu_tanh of the Gemma 4 MLPs (gemma4-model.md §3.0), shared by glu.comp and the gated
// mat-vec (matvec_q8.comp -D GLU) so both give the same bits.
// gelu_tanh(x) = 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x + 0.044715 x^3), is evaluated as
// x / (1 + exp(-2z)) (the same function: 0.5 (1 + tanh z) = sigmoid(2z)); this form has no
// cancellation for negative x and reaches the right limits (0 and x) without NaN.
float gelu_tanh(float v) {
    const float z = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return v / (1.0 + exp(-2.0 * z));
}
