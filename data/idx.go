package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is a decoded IDX file of unsigned bytes (the format of LeCun's MNIST
// files: magic 0x0000 08 ndims, then ndims big-endian uint32 dimensions,
// then the bytes in row-major order).
type IDX struct {
	Dims []int
	Data []uint8
}

// maxIDXBytes bounds what an IDX header may declare (16 GiB).
const maxIDXBytes = 1 << 34

// gzipRatio bounds the uncompressed size of a gzip file as a multiple of
// its compressed size (deflate cannot exceed about 1032:1).
const gzipRatio = 1100

// ReadIDX reads an IDX file of unsigned bytes, plain or gzipped (told by
// its first two bytes, not its name). The header is checked against the
// file's size before the data is allocated; a gzipped file's memory grows
// only with the bytes it really holds.
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data: %s: not a regular file", path)
	}
	size := st.Size()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	gz := false
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, formatErr(path, "bad gzip header: %v", err)
		}
		defer zr.Close()
		zr.Multistream(false)
		r, gz = zr, true
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, formatErr(path, "too short for an IDX header: %v", readErr(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, formatErr(path, "bad IDX magic %02x%02x%02x%02x: want 0000 followed by type and rank", magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != 0x08 {
		return nil, formatErr(path, "IDX element type 0x%02x is not unsigned byte (0x08)", magic[2])
	}
	rank := int(magic[3])
	if rank == 0 {
		return nil, formatErr(path, "IDX rank 0")
	}
	hdr := make([]byte, 4*rank)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, formatErr(path, "truncated IDX header (rank %d): %v", rank, readErr(err))
	}
	dims := make([]int, rank)
	total := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(hdr[4*i:]))
		dims[i] = int(d)
		if d != 0 && total > maxIDXBytes/d {
			return nil, formatErr(path, "IDX dimensions %v declare more than %d bytes", dims[:i+1], int64(maxIDXBytes))
		}
		total *= d
	}
	headerLen := int64(4 + 4*rank)
	var data []byte
	if !gz {
		if want := headerLen + total; size != want {
			return nil, formatErr(path, "IDX dimensions %v need %d bytes with the header, the file has %d", dims, want, size)
		}
		data = make([]byte, total)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, formatErr(path, "reading %d data bytes: %v", total, readErr(err))
		}
		return &IDX{Dims: dims, Data: data}, nil
	}
	if total > gzipRatio*size+1<<16 {
		return nil, formatErr(path, "IDX dimensions %v declare %d bytes, more than a %d-byte gzip file can hold", dims, total, size)
	}
	data, err = readUpTo(r, total)
	if err != nil {
		return nil, formatErr(path, "%v", err)
	}
	if int64(len(data)) < total {
		return nil, formatErr(path, "IDX dimensions %v need %d data bytes, the file holds %d", dims, total, len(data))
	}
	// Read to the end: the gzip reader checks the CRC and length there.
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n > 0 {
		return nil, formatErr(path, "more data than the IDX dimensions %v declare", dims)
	}
	if err != io.EOF {
		return nil, formatErr(path, "%v", readErr(err))
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// readUpTo reads at most n bytes, growing its buffer with what arrives.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<20))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
	}
	return buf, nil
}

func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("unexpected end of file")
	}
	return err
}
