// KansoSystemd
