print("kansoctl")
