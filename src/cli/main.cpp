#include <iostream>
int main() { std::cout << "tessera\n"; return 0; }
