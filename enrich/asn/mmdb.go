package asn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
)

// mmdbMarker starts the metadata section of a MaxMind DB file.
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

// ReadMMDB reads a MaxMind DB (GeoLite2-ASN / GeoIP2-ISP layout:
// autonomous_system_number, autonomous_system_organization) and adds every
// network of its search tree to the builder as a range. Only the parts of
// the format an ASN database uses are decoded; anything else is an error
// naming the file and offset.
func (b *Builder) ReadMMDB(data []byte, name string) error {
	i := bytes.LastIndex(data, mmdbMarker)
	if i < 0 {
		return fmt.Errorf("asn: %s: not a MaxMind DB (no metadata marker)", name)
	}
	md := &mmdbDecoder{buf: data[i+len(mmdbMarker):]}
	meta, _, err := md.decode(0, 0)
	if err != nil {
		return fmt.Errorf("asn: %s: metadata: %w", name, err)
	}
	m, ok := meta.(map[string]any)
	if !ok {
		return fmt.Errorf("asn: %s: metadata is not a map", name)
	}
	nodeCount, ok1 := asUint(m["node_count"])
	recordSize, ok2 := asUint(m["record_size"])
	ipVersion, ok3 := asUint(m["ip_version"])
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("asn: %s: metadata lacks node_count, record_size or ip_version", name)
	}
	if recordSize != 24 && recordSize != 28 && recordSize != 32 {
		return fmt.Errorf("asn: %s: record_size %d not supported (want 24, 28 or 32)", name, recordSize)
	}
	if ipVersion != 4 && ipVersion != 6 {
		return fmt.Errorf("asn: %s: ip_version %d", name, ipVersion)
	}
	nodeBytes := recordSize / 4
	treeSize := nodeCount * nodeBytes
	if treeSize+16 > uint64(i) {
		return fmt.Errorf("asn: %s: search tree of %d nodes does not fit in %d bytes", name, nodeCount, i)
	}
	w := &mmdbWalker{
		b: b, name: name, tree: data[:treeSize], nodeCount: nodeCount, recordSize: recordSize,
		data:   &mmdbDecoder{buf: data[treeSize+16 : i]},
		bits:   int(32),
		cache:  map[uint64]uint32{},
		badOff: map[uint64]bool{},
	}
	if ipVersion == 6 {
		w.bits = 128
	}
	var start [16]byte
	return w.walk(0, 0, start, 0)
}

type mmdbWalker struct {
	b                     *Builder
	name                  string
	tree                  []byte
	nodeCount, recordSize uint64
	data                  *mmdbDecoder
	bits                  int
	cache                 map[uint64]uint32
	badOff                map[uint64]bool
	steps                 int
}

func (w *mmdbWalker) record(node uint64, right bool) uint64 {
	switch w.recordSize {
	case 24:
		o := node * 6
		if right {
			o += 3
		}
		p := w.tree[o : o+3]
		return uint64(p[0])<<16 | uint64(p[1])<<8 | uint64(p[2])
	case 28:
		p := w.tree[node*7 : node*7+7]
		if right {
			return uint64(p[3]&0x0f)<<24 | uint64(p[4])<<16 | uint64(p[5])<<8 | uint64(p[6])
		}
		return uint64(p[3]&0xf0)<<20 | uint64(p[0])<<16 | uint64(p[1])<<8 | uint64(p[2])
	default:
		o := node * 8
		if right {
			o += 4
		}
		return uint64(binary.BigEndian.Uint32(w.tree[o : o+4]))
	}
}

// walk visits node at depth with the address bits so far in prefix.
func (w *mmdbWalker) walk(node uint64, depth int, prefix [16]byte, _ int) error {
	w.steps++
	if w.steps > 1<<26 {
		return fmt.Errorf("asn: %s: search tree too large or cyclic", w.name)
	}
	if w.bits == 128 && depth == 16 {
		// skip the IPv4-mapped and 6to4/Teredo aliases of the IPv4 subtree
		if prefix[0] == 0x20 && prefix[1] == 0x02 {
			return nil
		}
	}
	if w.bits == 128 && depth == 32 && prefix[0] == 0x20 && prefix[1] == 0x01 && prefix[2] == 0 && prefix[3] == 0 {
		return nil
	}
	if w.bits == 128 && depth == 96 && prefix == [16]byte{10: 0xff, 11: 0xff} {
		return nil
	}
	for side := 0; side < 2; side++ {
		p := prefix
		if side == 1 {
			p[depth/8] |= 0x80 >> (depth % 8)
		}
		rec := w.record(node, side == 1)
		switch {
		case rec < w.nodeCount:
			if depth+1 >= w.bits {
				return fmt.Errorf("asn: %s: search tree deeper than %d bits", w.name, w.bits)
			}
			if err := w.walk(rec, depth+1, p, 0); err != nil {
				return err
			}
		case rec == w.nodeCount:
			// no data
		default:
			off := rec - w.nodeCount - 16
			asn, ok, err := w.asnAt(off)
			if err != nil {
				return err
			}
			if ok {
				w.addPrefix(p, depth+1, asn)
			}
		}
	}
	return nil
}

func (w *mmdbWalker) addPrefix(p [16]byte, plen int, asn uint32) {
	last := p
	for i := plen; i < w.bits; i++ {
		last[i/8] |= 0x80 >> (i % 8)
	}
	var first, lastA netip.Addr
	switch {
	case w.bits == 32:
		first = netip.AddrFrom4([4]byte(p[:4]))
		lastA = netip.AddrFrom4([4]byte(last[:4]))
	case plen >= 96 && bytes.Equal(p[:12], make([]byte, 12)):
		// ::a.b.c.d: the IPv4 subtree of an IPv6 database
		first = netip.AddrFrom4([4]byte(p[12:]))
		lastA = netip.AddrFrom4([4]byte(last[12:]))
	default:
		first = netip.AddrFrom16(p)
		lastA = netip.AddrFrom16(last)
	}
	_ = w.b.Add(first, lastA, asn, w.b.t.names[asn])
}

func (w *mmdbWalker) asnAt(off uint64) (uint32, bool, error) {
	if a, ok := w.cache[off]; ok {
		return a, true, nil
	}
	if w.badOff[off] {
		return 0, false, nil
	}
	v, _, err := w.data.decode(off, 0)
	if err != nil {
		return 0, false, fmt.Errorf("asn: %s: data at offset %d: %w", w.name, off, err)
	}
	m, _ := v.(map[string]any)
	n, ok := asUint(m["autonomous_system_number"])
	if !ok || n > math.MaxUint32 {
		w.badOff[off] = true
		w.b.warn("%s: data at offset %d has no autonomous_system_number", w.name, off)
		return 0, false, nil
	}
	if org, ok := m["autonomous_system_organization"].(string); ok {
		if _, seen := w.b.t.names[uint32(n)]; !seen && org != "" {
			w.b.t.names[uint32(n)] = org
		}
	}
	w.cache[off] = uint32(n)
	return uint32(n), true, nil
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint64:
		return x, true
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

// mmdbDecoder decodes the MaxMind DB data section format.
type mmdbDecoder struct{ buf []byte }

var errShort = errors.New("truncated data")

const maxDepth = 32

// decode returns the value at off and the offset after it.
func (d *mmdbDecoder) decode(off uint64, depth int) (any, uint64, error) {
	if depth > maxDepth {
		return nil, 0, errors.New("nesting too deep")
	}
	if off >= uint64(len(d.buf)) {
		return nil, 0, errShort
	}
	ctrl := d.buf[off]
	off++
	typ := ctrl >> 5
	if typ == 1 { // pointer
		ss := (ctrl >> 3) & 3
		vvv := uint64(ctrl & 7)
		n := uint64(ss) + 1
		if off+n > uint64(len(d.buf)) {
			return nil, 0, errShort
		}
		b := d.buf[off : off+n]
		var p uint64
		switch ss {
		case 0:
			p = vvv<<8 | uint64(b[0])
		case 1:
			p = (vvv<<16 | uint64(b[0])<<8 | uint64(b[1])) + 2048
		case 2:
			p = (vvv<<24 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])) + 526336
		default:
			p = uint64(binary.BigEndian.Uint32(b))
		}
		v, _, err := d.decode(p, depth+1)
		return v, off + n, err
	}
	if typ == 0 {
		if off >= uint64(len(d.buf)) {
			return nil, 0, errShort
		}
		typ = 7 + d.buf[off]
		off++
	}
	size := uint64(ctrl & 0x1f)
	if size >= 29 {
		n := size - 28
		if off+n > uint64(len(d.buf)) {
			return nil, 0, errShort
		}
		b := d.buf[off : off+n]
		off += n
		switch n {
		case 1:
			size = 29 + uint64(b[0])
		case 2:
			size = 285 + (uint64(b[0])<<8 | uint64(b[1]))
		default:
			size = 65821 + (uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2]))
		}
	}
	switch typ {
	case 7: // map
		m := make(map[string]any, min(size, 64))
		for i := uint64(0); i < size; i++ {
			k, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, 0, errors.New("map key is not a string")
			}
			v, next2, err := d.decode(next, depth+1)
			if err != nil {
				return nil, 0, err
			}
			m[ks] = v
			off = next2
		}
		return m, off, nil
	case 11: // array
		a := make([]any, 0, min(size, 64))
		for i := uint64(0); i < size; i++ {
			v, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a = append(a, v)
			off = next
		}
		return a, off, nil
	case 14: // boolean: value in size
		return size != 0, off, nil
	}
	if off+size > uint64(len(d.buf)) {
		return nil, 0, errShort
	}
	b := d.buf[off : off+size]
	off += size
	switch typ {
	case 2:
		return string(b), off, nil
	case 3:
		if size != 8 {
			return nil, 0, errors.New("double of wrong size")
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), off, nil
	case 4:
		return b, off, nil
	case 5, 6, 9, 10:
		if size > 16 {
			return nil, 0, errors.New("integer too long")
		}
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return v, off, nil
	case 8:
		if size > 4 {
			return nil, 0, errors.New("int32 too long")
		}
		var v uint32
		for _, c := range b {
			v = v<<8 | uint32(c)
		}
		return int64(int32(v)), off, nil
	case 15:
		if size != 4 {
			return nil, 0, errors.New("float of wrong size")
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), off, nil
	}
	return nil, 0, fmt.Errorf("unsupported data type %d", typ)
}
