package model

// Cache holds the keys and values one sequence has produced so far, per
// layer, position-major ([pos][kvHead][headDim]) so appending a token and
// rewinding to a shorter prefix are both O(1) bookkeeping.
type Cache struct {
	kvDim  int
	k, v   [][]float32 // per layer
	n      int         // positions filled
	layers int
}

// NewCache returns an empty cache for this model.
func (m *Model) NewCache() *Cache {
	c := m.cfg
	return &Cache{kvDim: c.KVHeads * c.HeadDim, layers: c.Layers,
		k: make([][]float32, c.Layers), v: make([][]float32, c.Layers)}
}

// Len is the number of positions in the cache: the position of the next token.
func (c *Cache) Len() int { return c.n }

// Truncate drops every position from n on, so the cache can be reused for
// a prompt that shares its first n tokens.
func (c *Cache) Truncate(n int) {
	if n < c.n {
		c.n = max(n, 0)
	}
}

// Clone returns an independent copy of the first n positions.
func (c *Cache) Clone(n int) *Cache {
	n = min(n, c.n)
	d := &Cache{kvDim: c.kvDim, layers: c.layers, n: n, k: make([][]float32, c.layers), v: make([][]float32, c.layers)}
	for l := range c.k {
		d.k[l] = append([]float32(nil), c.k[l][:n*c.kvDim]...)
		d.v[l] = append([]float32(nil), c.v[l][:n*c.kvDim]...)
	}
	return d
}

// Bytes is the memory the cache holds.
func (c *Cache) Bytes() int64 {
	var s int64
	for l := range c.k {
		s += int64(cap(c.k[l])+cap(c.v[l])) * 4
	}
	return s
}

// reserve makes room for positions [0, n) in every layer, growing in steps
// of 256 positions as mlx-lm's KVCache does.
func (c *Cache) reserve(n int) {
	need := n * c.kvDim
	for l := range c.k {
		if cap(c.k[l]) >= need {
			c.k[l] = c.k[l][:need]
			c.v[l] = c.v[l][:need]
			continue
		}
		steps := (n + 255) / 256 * 256
		nk := make([]float32, need, steps*c.kvDim)
		nv := make([]float32, need, steps*c.kvDim)
		copy(nk, c.k[l][:c.n*c.kvDim])
		copy(nv, c.v[l][:c.n*c.kvDim])
		c.k[l], c.v[l] = nk, nv
	}
}
