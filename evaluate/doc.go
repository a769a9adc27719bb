// Package evaluate measures a classifier on a labelled data set (a
// data.Source, batched by a data.Loader): metrics (top-1 and top-k
// accuracy, per-class recall, the confusion matrix, mean cross-entropy,
// top-2 logit margins) and Run, which feeds a whole data set through a
// compiled runtime.Session.
//
// Dimensions: N images, C channels, H×W pixels, K classes (the width of the
// model's logits).
//
// The default transform (DefaultTransform) follows the model's input size
// and normalises bytes as the fixtures were made, (p/255 − 0.5)/0.5; data
// reading and its errors are package data's.
package evaluate
