// KansoServer
