// Package data reads labelled image data sets as users have them (MNIST IDX,
// CIFAR-10 and CIFAR-100 binary, .npy arrays, torchvision ImageFolder
// trees), transforms them as torchvision does, and batches them with
// shuffling and parallel loading, for evaluation and training alike.
//
// Dimensions: N samples in a batch, C channels, H×W pixels; a sample is
// stored C×H×W (planar), a batch N×C×H×W.
//
// The layers, each usable alone:
//
//   - Source: a labelled data set read one sample at a time by index
//     (Len, Shape, Classes, Read). Formats register an opener with
//     RegisterFormat, as image.RegisterFormat does; Open picks one by name
//     and carves a seeded validation split out of the training set.
//   - Transform: torchvision's Resize, CenterCrop, RandomResizedCrop,
//     RandomCrop, RandomHorizontalFlip and Grayscale on byte images (with
//     PIL's fixed-point arithmetic, so results equal torchvision's on PIL
//     images), then ToTensor and Normalize. A Transform is stated as a
//     string ("Resize(256), CenterCrop(224), Normalize(imagenet)"), read
//     from flags or a small file; random steps draw from a generator seeded
//     by (seed, epoch, sample index), so results do not depend on the
//     number of workers.
//   - Images: PNG, JPEG and GIF through the standard library, BMP, TIFF and
//     WebP through golang.org/x/image, converted to RGB or grey as PIL's
//     convert does; 4:2:0 JPEG chroma is enlarged and converted as
//     libjpeg-turbo does, so pixels match PIL's to the IDCT's rounding.
//     ImageFolder takes torchvision's extensions that Go decodes (not .ppm
//     or .pgm) and .gif.
//   - Loader: batches in order or shuffled by a seed that changes with the
//     epoch, drop_last, padding of the last batch for a model compiled for a
//     fixed batch, and N worker goroutines with a bounded prefetch.
//
// Errors: every file is validated before anything is allocated from what it
// declares (magic numbers, dimensions against the file's size, label
// ranges); errors name the file and are *FormatError where the bytes are
// wrong. Nothing reachable from input panics. Sources are safe for
// concurrent Read calls.
package data
