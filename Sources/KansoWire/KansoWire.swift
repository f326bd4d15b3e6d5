// KansoWire
