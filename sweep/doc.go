// Package sweep answers "how far can I prune before it hurts, and what do
// I gain?": it prunes one dense model at many amounts with several methods,
// evaluates every pruned copy on a labelled data set, and records accuracy,
// top-5, loss, per-class recall, sparsity, parameters, MACs, file size and
// latency per point; it also measures the sensitivity of each layer alone
// and proposes per-layer amounts (a Plan) for a target sparsity.
//
// A sweep is a Spec (the model and its SHA-256, the data set, the methods,
// the amounts, the evaluation and latency settings). Its points are numbered
// 0..N-1 (finetuned, then method, then amount, in the Spec's order), and a
// point is a pure function of the Spec and its index: RunPoint on any
// machine gives the same Result (latency_ms, a measured time, aside). A
// sweep folder holds spec.json, one points/NNNNNN.json per finished point
// (written atomically the moment it is done), and after Merge results.json,
// results.csv and the plots. Resume skips the points whose files are whole
// and belong to the same Spec; a damaged file is redone; a folder written
// for another Spec is refused unless the caller asks for a fresh start.
//
// Pruning is prune.Apply, the code behind onnxprune, on a clone of the
// model loaded once; evaluation is evaluate.Run, the code behind onnxeval,
// on the data set decoded once.
//
// Errors: bad settings (amounts outside [0, 1), no method, an unknown
// method, an index past the end) are *SpecError; everything else is
// wrapped with the file or point it concerns. Nothing here panics on input.
package sweep
