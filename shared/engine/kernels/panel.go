package kernels

import (
	"encoding/binary"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mlxk/mlxk/shared/quant"
)

// Panels: 4- and 8-bit weights repacked so the AVX2 kernels never reduce
// across vector lanes.
//
// In MLX's layout a row's values lie along the vector, so every dot
// product ends in a horizontal sum, and per 256 weights and activation
// vector those reductions cost more than the multiplies. A panel holds 8
// consecutive rows interleaved four columns at a time: one 32-byte vector
// carries columns c..c+3 of all 8 rows, one 4-byte lane per row. VPMADDUBSW
// against the activations' columns c..c+3 broadcast to every lane, then
// VPMADDWD, leaves row j's partial sum in lane j: the 8 output rows of the
// panel accumulate in the 8 lanes of one register, and no reduction is
// left at the end. llama.cpp's AVX2 q4_0 "repack" kernels rest on the same
// idea; the byte layout here is the project's own.
//
// Layout, panel by panel (rows 8p..8p+7; a last partial panel is padded
// with zero rows), group by group:
//
//	scales[8], biases[8]   one per row, bf16 when the model's are bf16, else float32
//	G/32 blocks of 128 bytes (4-bit) or 256 bytes (8-bit), one per 32 columns:
//	    4-bit: 4 vectors of 32 bytes; in vector v, byte 4j+i holds row j's
//	    column 4(2v)+i of the block in its low nibble and column 4(2v+1)+i
//	    in its high nibble.
//	    8-bit: 8 vectors of 32 bytes; in vector v, byte 4j+i holds row j's
//	    column 4v+i as the signed q-128 (packBlocks8).
//
// The bytes of a panel follow each other in the order the kernel reads
// them, so one matrix is one sequential stream. The repacked matrix has
// the same size as the original (plus the padding rows).
const panelRows = 8

// panels is a 4- or 8-bit matrix in panel layout.
type panels struct {
	data    []byte
	f32     bool // scales and biases stored as float32, else bf16
	gstride int  // bytes per group of a panel
	pstride int  // bytes per panel
}

// scaleBytes is the size of one panel group's scales (or biases).
func (pn *panels) scaleBytes() int {
	if pn.f32 {
		return 4 * panelRows
	}
	return 2 * panelRows
}

// packed returns the matrix's panels, nil when it has none.
func (m *Matrix) packed() *panels {
	if m.pack == nil {
		return nil
	}
	return m.pack.p.Load()
}

// packState guards the one-time repacking of a matrix.
type packState struct {
	once sync.Once
	p    atomic.Pointer[panels]
}

// canPack reports whether m has a panel layout: MLX affine 4-bit or
// 8-bit.
func (m *Matrix) canPack() bool {
	return m.Format == Affine && (m.Bits == 4 || m.Bits == 8) && m.Cols%32 == 0
}

// ensurePacked repacks m into panels once (on the caller's goroutine;
// Pool.Pack spreads a loader's matrices over the workers).
func (m *Matrix) ensurePacked(release func([]byte)) *panels {
	m.pack.once.Do(func() {
		pn := m.newPanels()
		m.packRange(pn, 0, pn.panels(m), release)
		m.releaseRest(release)
		m.pack.p.Store(pn)
	})
	return m.pack.p.Load()
}

// newPanels allocates m's panel layout, still empty.
func (m *Matrix) newPanels() *panels {
	ng := m.Cols / m.GroupSize
	pn := &panels{f32: m.ScaleFormat != BF16}
	pn.gstride = 2*pn.scaleBytes() + m.Bits*m.GroupSize // G/32 blocks of 32·Bits bytes
	pn.pstride = ng * pn.gstride
	pn.data = allocPanels(pn, pn.panels(m)*pn.pstride)
	return pn
}

// panels is the number of panels of m (the last one may be partial).
func (pn *panels) panels(m *Matrix) int { return (m.Rows + panelRows - 1) / panelRows }

// packRange fills panels [p0,p1) of pn from m's MLX layout. With release
// set, the rows it has repacked are handed to it every few megabytes, so
// the original and the copy never both stay in memory whole (pages at the
// edges of the range are left to releaseRest).
func (m *Matrix) packRange(pn *panels, p0, p1 int, release func([]byte)) {
	G := m.GroupSize
	ng := m.Cols / G
	rb := m.rowBytes()
	sb := pn.scaleBytes()
	released := p0 * panelRows * rb // m.Data up to here was handed to release
	const releaseEvery = 4 << 20
	prefault(pn.data[p0*pn.pstride : p1*pn.pstride])
	for p := p0; p < p1; p++ {
		pd := pn.data[p*pn.pstride : (p+1)*pn.pstride]
		nr := min(panelRows, m.Rows-p*panelRows) // rows past the matrix stay zero
		rows := m.Data[p*panelRows*rb : (p*panelRows+nr)*rb]
		for g := 0; g < ng; g++ {
			gd := pd[g*pn.gstride : (g+1)*pn.gstride]
			for j := 0; j < nr; j++ {
				i := (p*panelRows+j)*ng + g
				if pn.f32 {
					binary.LittleEndian.PutUint32(gd[4*j:], math.Float32bits(m.scaleAt(m.Scales, i)))
					binary.LittleEndian.PutUint32(gd[sb+4*j:], math.Float32bits(m.scaleAt(m.Biases, i)))
				} else {
					copy(gd[2*j:2*j+2], m.Scales[2*i:])
					copy(gd[sb+2*j:sb+2*j+2], m.Biases[2*i:])
				}
			}
			blocks := gd[2*sb:]
			if m.Bits == 8 {
				packBlocks8(blocks, rows, rb, nr, g*G, G)
				continue
			}
			for b := 0; b < G/32; b++ {
				dst := (*[128]byte)(blocks[128*b:])
				off := (g*G + 32*b) / 2 // the block's first byte in a row
				for j := 0; j < nr; j++ {
					// 16 bytes: columns 0..31 of the block, eight at a time
					// per 32-bit half; both halves shuffle at once.
					src := (*[16]byte)(rows[j*rb+off:])
					a := interleaveNibbles2(binary.LittleEndian.Uint64(src[0:]))
					c := interleaveNibbles2(binary.LittleEndian.Uint64(src[8:]))
					binary.LittleEndian.PutUint32(dst[4*j:], uint32(a))
					binary.LittleEndian.PutUint32(dst[32+4*j:], uint32(a>>32))
					binary.LittleEndian.PutUint32(dst[64+4*j:], uint32(c))
					binary.LittleEndian.PutUint32(dst[96+4*j:], uint32(c>>32))
				}
			}
		}
		if done := (p*panelRows + nr) * rb; release != nil && (done-released >= releaseEvery || p == p1-1) {
			start := released
			if start > p0*panelRows*rb || p0 == 0 {
				start = pageDown(m.Data, released)
			}
			release(m.Data[start:done])
			released = done
		}
	}
}

// packBlocks8 writes one group's 8-bit blocks (G/32 of 256 bytes) of the
// nr rows of rows (stride rb) from column c0: in block b, vector k (32
// bytes) holds columns 4k..4k+3 of the 8 rows, row j's at bytes 4j..4j+3,
// each stored as the signed q-128 (q XOR 0x80) that VPMADDUBSW's sign
// trick reads (see panel8SIMD).
func packBlocks8(blocks, rows []byte, rb, nr, c0, G int) {
	for b := 0; b < G/32; b++ {
		dst := blocks[256*b : 256*(b+1)]
		for j := 0; j < nr; j++ {
			src := rows[j*rb+c0+32*b : j*rb+c0+32*b+32]
			for k := 0; k < 8; k++ {
				for i := 0; i < 4; i++ {
					dst[32*k+4*j+i] = src[4*k+i] ^ 0x80
				}
			}
		}
	}
}

// releaseRest hands the whole original to release once every range is
// repacked: the pages at range edges, and the scales and biases.
func (m *Matrix) releaseRest(release func([]byte)) {
	if release != nil {
		release(m.Data)
		release(m.Scales)
		release(m.Biases)
	}
}

// interleaveNibbles maps the 8 nibbles of s, columns c..c+7 in MLX order
// (column c in the lowest nibble), to the panel's order: byte i holds
// column c+i in its low nibble and c+4+i in its high nibble. It is the
// outer perfect shuffle of the 8 nibbles, in two swap steps.
func interleaveNibbles(s uint32) uint32 {
	return uint32(interleaveNibbles2(uint64(s)))
}

// interleaveNibbles2 is interleaveNibbles on both 32-bit halves of s at
// once (no step moves a bit across the halves).
func interleaveNibbles2(s uint64) uint64 {
	t := (s ^ s>>8) & 0x0000ff000000ff00
	s ^= t ^ t<<8
	t = (s ^ s>>4) & 0x00f000f000f000f0
	return s ^ t ^ t<<4
}

var pageSize = os.Getpagesize()

// pageDown returns the largest offset <= off at which b's address is
// page-aligned, or 0: a release of b[pageDown(off):] covers the page that
// straddles off, which the previous release (ending at off) could not.
func pageDown(b []byte, off int) int {
	if off == 0 || len(b) == 0 {
		return off
	}
	addr := uintptr(unsafe.Pointer(&b[0])) + uintptr(off)
	back := int(addr % uintptr(pageSize))
	return max(0, off-back)
}

// rowFromPanels writes row r of a packed matrix as float32 into dst.
func (m *Matrix) rowFromPanels(pn *panels, dst []float32, r int) {
	G := m.GroupSize
	ng := m.Cols / G
	p, j := r/panelRows, r%panelRows
	pd := pn.data[p*pn.pstride:]
	sb := pn.scaleBytes()
	for g := 0; g < ng; g++ {
		gd := pd[g*pn.gstride:]
		var s, b float32
		if pn.f32 {
			s = math.Float32frombits(binary.LittleEndian.Uint32(gd[4*j:]))
			b = math.Float32frombits(binary.LittleEndian.Uint32(gd[sb+4*j:]))
		} else {
			s = math.Float32frombits(uint32(binary.LittleEndian.Uint16(gd[2*j:])) << 16)
			b = math.Float32frombits(uint32(binary.LittleEndian.Uint16(gd[sb+2*j:])) << 16)
		}
		if m.Bits == 8 {
			for blk := 0; blk < G/32; blk++ {
				bd := gd[2*sb+256*blk:]
				d := dst[g*G+32*blk:]
				for k := 0; k < 8; k++ {
					for i := 0; i < 4; i++ {
						d[4*k+i] = quant.Value(s, b, uint32(bd[32*k+4*j+i]^0x80))
					}
				}
			}
			continue
		}
		for blk := 0; blk < G/32; blk++ {
			bd := gd[2*sb+128*blk:]
			d := dst[g*G+32*blk:]
			for k := 0; k < 8; k++ {
				for i := 0; i < 4; i++ {
					v := bd[32*(k/2)+4*j+i] >> (4 * (k % 2)) & 15
					d[4*k+i] = quant.Value(s, b, uint32(v))
				}
			}
		}
	}
	runtime.KeepAlive(pn) // pn.data is unmapped once pn is unreachable
}
