// KansoPool
