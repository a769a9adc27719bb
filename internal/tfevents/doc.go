// Package tfevents writes TensorBoard event files: scalars and histograms
// as TensorBoard's Event/Summary messages in TFRecord framing, so that
// `tensorboard --logdir DIR` plots a Go training run.
//
// A record is a uint64 little-endian length, the masked CRC-32C
// (Castagnoli) of those 8 bytes as a uint32 little-endian, the data, and the
// masked CRC-32C of the data; mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
// The first record of a file is an Event with file_version "brain.Event:2".
//
// The messages are encoded field by field with protowire from their field
// numbers, checked against TensorBoard's own definitions (read, not copied;
// github.com/tensorflow/tensorboard):
//
//	tensorboard/compat/proto/event.proto     (commit 00342393c324)
//	  Event          1 wall_time double, 2 step int64,
//	                 3 file_version string, 5 summary Summary
//	tensorboard/compat/proto/summary.proto   (commit 00bd827c4d95)
//	  Summary        1 value repeated Summary.Value
//	  Summary.Value  1 tag string, 2 simple_value float,
//	                 5 histo HistogramProto
//	tensorboard/compat/proto/histogram.proto (commit 5052790979d7)
//	  HistogramProto 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (double),
//	                 6 bucket_limit, 7 bucket (repeated double, packed)
//
// WriteGraph adds a graph for the Graphs tab (Event 4 graph_def, a
// GraphDef of NodeDefs with name, op and inputs: see graph.go). Writing only
// these fields keeps the dependency to protowire, which the module already
// has through google.golang.org/protobuf.
//
// Files are append-only and written as the run goes: records are buffered
// and Flush writes them out (onnxtune flushes after every epoch). A process
// killed mid-write can leave a partial last record; TensorBoard's reader
// treats a truncated record at the end of a file as not yet written and
// keeps every record before it, so an event file is never unreadable, only
// short by at most the records in flight.
package tfevents
