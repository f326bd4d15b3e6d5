// KansoEngine
