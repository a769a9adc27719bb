// Package evaluate measures a classifier on a labelled data set: datasets
// (MNIST IDX files, CIFAR-10 binary batches), a batch iterator that turns
// their bytes into normalized NCHW float32 tensors, metrics (top-1 and
// top-k accuracy, per-class recall, the confusion matrix, mean
// cross-entropy, top-2 logit margins) and Run, which feeds a whole data set
// through a compiled runtime.Session.
//
// Dimensions: N images, C channels, H×W pixels, K classes (the width of the
// model's logits).
//
// Normalization is the torchvision one, in float32 and in this order:
// x = (pixel/255 − mean[c]) / std[c]. MNIST's default (mean 0.5, std 0.5)
// maps 0..255 to [−1, 1], as the fixtures were made.
//
// Errors: every file a user names is validated before anything is
// allocated (magic numbers, dimensions against the file's size, label
// ranges); errors name the file and are *FormatError where the bytes are
// wrong. A gzipped file is decompressed into memory that grows only with
// the bytes actually decompressed, up to what the header declares. Nothing
// here panics on bad input.
package evaluate
